from flask_babel import lazy_gettext as _l
from wtforms import (HiddenField, MultipleFileField, RadioField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from challenges import rules
from challenges.models import Difficulty, ProblemStatus, QuestMode
from forms import Form, LocalDateTimeField, NumberField, WholeNumberField


def photos_field(label: str = _l("Photos (optional, up to 3)")) -> MultipleFileField:
    return MultipleFileField(label, render_kw={"accept": "image/jpeg,image/png,image/webp"},
                             description=_l("JPEG, PNG or WebP, up to 8 MB each. We remove location and camera "
                                            "data from photos before anyone sees them."))


class ProblemForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(min=3, max=rules.TITLE_MAX)],
                        description=_l("A few words, like 'Deep pothole outside the library'."))
    description = TextAreaField(_l("What is wrong?"), validators=[DataRequired(), Length(max=rules.DESCRIPTION_MAX)])
    category = SelectField(_l("Category"), validators=[DataRequired()])
    lat = NumberField(_l("Latitude"), validators=[InputRequired(message=_l("Enter the latitude."))],
                      description=_l("Between -90 and 90, e.g. 51.4545."))
    lon = NumberField(_l("Longitude"), validators=[InputRequired(message=_l("Enter the longitude."))],
                      description=_l("Between -180 and 180, e.g. -2.5879."))
    address = StringField(_l("Address or landmark (optional)"),
                          validators=[Optional(), Length(max=rules.ADDRESS_MAX)])
    photos = photos_field()
    # Set once the reporter has seen the nearby problems and says theirs is different.
    checked_nearby = HiddenField(default="")


class StatusForm(Form):
    status = SelectField("New status", choices=[(s.value, s.value.replace("_", " ")) for s in ProblemStatus])
    note = TextAreaField("Note for the public history (optional)",
                         validators=[Optional(), Length(max=rules.REASON_MAX)])


class QuestForm(Form):
    title = StringField("Title", validators=[DataRequired(), Length(min=3, max=rules.TITLE_MAX)])
    brief = TextAreaField("Why it matters", validators=[DataRequired(), Length(max=rules.BRIEF_MAX)],
                          description="Tell players what difference this makes to the place.")
    points = WholeNumberField("Points", validators=[InputRequired(message="Enter the points.")], default=50,
                              description=f"{rules.POINTS_MIN} to {rules.POINTS_MAX}.")
    difficulty = SelectField("Difficulty", choices=[(d.value, d.value) for d in Difficulty])
    mode = RadioField("Who takes it on", choices=[(QuestMode.solo.value, "Solo: one person"),
                                                 (QuestMode.team.value, "Team: claimed for a team")],
                      default=QuestMode.solo.value)
    evidence_wanted = StringField("Evidence wanted",
                                  validators=[DataRequired(), Length(max=rules.EVIDENCE_WANTED_MAX)],
                                  description="What should players submit? e.g. 'A short note and where you took the litter'.")
    starts_at = LocalDateTimeField("Opens (optional)", validators=[Optional()])
    ends_at = LocalDateTimeField("Closes (optional)", validators=[Optional()],
                                 description="Quests with a deadline show a countdown.")
    problem_id = SelectField("Problem it tackles (optional)", coerce=int, default=0)
    review_mode = RadioField("Who reviews claims", choices=[
        ("organiser", "An organiser"), ("peer", "Peer reviewers (experienced players)")], default="organiser")
    peer_reviews_needed = WholeNumberField("Peer approvals needed", default=2, validators=[Optional()],
                                           description="For peer review: this many must approve; a majority rejecting rejects.")
    dynamic_min_points = WholeNumberField("Minimum value (optional, for contests)", validators=[Optional()],
                                          description="Leave empty for a fixed value. With a minimum and a decay, the "
                                                      "value falls as more teams solve the quest, and everyone who "
                                                      "solved it holds the current value.")
    dynamic_decay = WholeNumberField("Solves until the minimum (optional)", validators=[Optional()])


class ClaimForm(Form):
    team_id = SelectField(_l("Claim for team"), coerce=int)


class EvidenceForm(Form):
    members = SelectMultipleField(_l("Who took part"), coerce=int, widget=ListWidget(prefix_label=False),
                                  option_widget=CheckboxInput(),
                                  description=_l("Everyone ticked is credited when the claim is approved."))
    evidence = TextAreaField(_l("Your evidence"), validators=[DataRequired(), Length(max=rules.EVIDENCE_MAX)],
                             description=_l("What did you do, where and when?"))
    photos = photos_field(_l("Photos (optional)"))
    hours = NumberField(_l("Hours spent (optional)"), validators=[Optional()],
                        description=_l("Volunteer hours, like 1.5: added up on the impact pages."))


class ReverseForm(Form):
    reason = TextAreaField(_l("Why reverse this approved claim?"),
                           validators=[DataRequired(), Length(max=rules.REASON_MAX)],
                           description=_l("Every point it paid is taken back by a recorded correction."))


class ReviewForm(Form):
    decision = RadioField(_l("Decision"), choices=[("approve", _l("Approve")), ("reject", _l("Reject"))],
                          validators=[InputRequired(message=_l("Choose approve or reject."))])
    reason = TextAreaField(_l("Reason (required to reject)"), validators=[Optional(), Length(max=rules.REASON_MAX)])


class CommentForm(Form):
    body = TextAreaField("Public update", validators=[DataRequired(), Length(max=rules.DESCRIPTION_MAX)],
                         description="Everyone following this problem is told.")
    photos = photos_field("Photos of the work (optional)")


class MergeForm(Form):
    into_id = WholeNumberField("Merge into problem number", validators=[InputRequired(message="Enter a problem number.")],
                               description="This problem's followers, confirmations, photos and history move there.")


DELIVERY_CHOICES = [("immediate", "Email me at once"), ("digest", "One email a day"), ("in_app", "Only in FixQuest")]


class AreaForm(Form):
    lat = NumberField("Centre latitude", validators=[InputRequired(message="Enter the latitude.")])
    lon = NumberField("Centre longitude", validators=[InputRequired(message="Enter the longitude.")])
    radius_m = NumberField("Radius in metres", validators=[InputRequired(message="Enter a radius.")], default=500)
    delivery = SelectField("How to tell you", choices=DELIVERY_CHOICES)


class WardForm(Form):
    """A ward or any rectangle, by its south-west and north-east corners."""
    min_lat = NumberField("South edge (latitude)", validators=[InputRequired(message="Enter the south edge.")])
    min_lon = NumberField("West edge (longitude)", validators=[InputRequired(message="Enter the west edge.")])
    max_lat = NumberField("North edge (latitude)", validators=[InputRequired(message="Enter the north edge.")])
    max_lon = NumberField("East edge (longitude)", validators=[InputRequired(message="Enter the east edge.")])
    delivery = SelectField("How to tell you", choices=DELIVERY_CHOICES)


class CategoryFollowForm(Form):
    category = SelectField("Category")
    delivery = SelectField("How to tell you", choices=DELIVERY_CHOICES)
