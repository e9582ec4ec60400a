from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from challenges import rules
from challenges.models import Difficulty, ProblemStatus, QuestMode
from forms import Form, LocalDateTimeField, NumberField, WholeNumberField


class ProblemForm(Form):
    title = StringField("Title", validators=[DataRequired(), Length(min=3, max=rules.TITLE_MAX)],
                        description="A few words, like 'Deep pothole outside the library'.")
    description = TextAreaField("What is wrong?", validators=[DataRequired(), Length(max=rules.DESCRIPTION_MAX)])
    category = SelectField("Category", validators=[DataRequired()])
    lat = NumberField("Latitude", validators=[InputRequired(message="Enter the latitude.")],
                      description="Between -90 and 90, e.g. 51.4545.")
    lon = NumberField("Longitude", validators=[InputRequired(message="Enter the longitude.")],
                      description="Between -180 and 180, e.g. -2.5879.")
    address = StringField("Address or landmark (optional)", validators=[Optional(), Length(max=rules.ADDRESS_MAX)])


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


class ClaimForm(Form):
    team_id = SelectField("Claim for team", coerce=int)


class EvidenceForm(Form):
    evidence = TextAreaField("Your evidence", validators=[DataRequired(), Length(max=rules.EVIDENCE_MAX)],
                             description="What did you do, where and when?")


class ReviewForm(Form):
    decision = RadioField("Decision", choices=[("approve", "Approve"), ("reject", "Reject")],
                          validators=[InputRequired(message="Choose approve or reject.")])
    reason = TextAreaField("Reason (required to reject)", validators=[Optional(), Length(max=rules.REASON_MAX)])
