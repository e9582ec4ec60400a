from flask_wtf.file import FileField
from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from campaigns.services import TITLE_MAX, WHY_MAX
from campaigns.stories import STORY_MAX
from forms import Form, LocalDateTimeField, NumberField, WholeNumberField

PHOTO_HINT = "JPEG, PNG or WebP, up to 8 MB. We remove location and camera data before anyone sees it."


class CampaignForm(Form):
    title = StringField("Title", validators=[DataRequired(), Length(min=3, max=TITLE_MAX)],
                        description="Like 'Fix 100 problems in Riverside ward by July'.")
    why = TextAreaField("Why it matters", validators=[DataRequired(), Length(max=WHY_MAX)])
    area_kind = RadioField("Area", choices=[("bbox", "A box (a ward or any rectangle)"),
                                            ("circle", "A circle around a point")], default="bbox")
    min_lat = NumberField("South edge (latitude)", validators=[Optional()])
    min_lon = NumberField("West edge (longitude)", validators=[Optional()])
    max_lat = NumberField("North edge (latitude)", validators=[Optional()])
    max_lon = NumberField("East edge (longitude)", validators=[Optional()])
    centre_lat = NumberField("Centre latitude", validators=[Optional()])
    centre_lon = NumberField("Centre longitude", validators=[Optional()])
    radius_m = NumberField("Radius in metres", validators=[Optional()], description="Up to 5,000 m.")
    categories = SelectMultipleField("Categories", widget=ListWidget(prefix_label=False),
                                     option_widget=CheckboxInput(),
                                     description="Tick none to count every category.")
    goal = WholeNumberField("Goal: problems fixed", validators=[InputRequired(message="Enter the goal.")], default=100)
    starts_at = LocalDateTimeField("Starts (optional)", validators=[Optional()],
                                   description="Empty: as soon as it is launched.")
    ends_at = LocalDateTimeField("Ends", validators=[InputRequired(message="Say when the campaign ends.")])
    start = RadioField("How it starts", choices=[("now", "Launch it now"),
                                                 ("vote", "Put it to the community's vote first")], default="now")
    voting_closes_at = LocalDateTimeField("Voting closes (for a vote)", validators=[Optional()])


class PledgeForm(Form):
    tokens = WholeNumberField("Tokens to pledge", validators=[InputRequired(message="Enter how many tokens.")],
                              default=1)


class LaunchForm(Form):
    ends_at = LocalDateTimeField("New end (optional)", validators=[Optional()],
                                 description="Only if the planned end has passed or should move.")


class FixStoryForm(Form):
    story = TextAreaField("The fix story", validators=[DataRequired(), Length(max=STORY_MAX)],
                          description="A few sentences: what was wrong, what was done, who helped.")
    before_photo = FileField("Before (optional)", render_kw={"accept": "image/jpeg,image/png,image/webp"},
                             description=PHOTO_HINT)
    after_photo = FileField("After (optional)", render_kw={"accept": "image/jpeg,image/png,image/webp"},
                            description=PHOTO_HINT)
