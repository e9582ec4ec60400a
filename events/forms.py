from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from events import rules
from events.models import EventMode
from forms import Form, LocalDateTimeField, NumberField, WholeNumberField


class EventForm(Form):
    """Types only; the rules (events/rules.py) give the messages about the values."""

    title = StringField("Title", validators=[DataRequired(), Length(min=3, max=rules.TITLE_MAX)])
    description = TextAreaField("What the jam is about", validators=[DataRequired(),
                                                                     Length(max=rules.DESCRIPTION_MAX)])
    place = StringField("Place", validators=[DataRequired(), Length(max=rules.PLACE_MAX)],
                        description="Where people meet, e.g. 'Easton Community Centre, Bristol'.")
    lat = NumberField("Latitude (optional)", validators=[Optional()])
    lon = NumberField("Longitude (optional)", validators=[Optional()])
    starts_at = LocalDateTimeField("Starts")
    ends_at = LocalDateTimeField("Ends")
    registration_opens_at = LocalDateTimeField("Registration opens")
    registration_closes_at = LocalDateTimeField("Registration closes", description="At the latest when the event ends.")
    mode = RadioField("Who enters", choices=[(EventMode.team.value, "Teams"), (EventMode.solo.value, "People, solo")],
                      default=EventMode.team.value)
    min_team_size = WholeNumberField("Smallest team", default=1, validators=[Optional()])
    max_team_size = WholeNumberField("Largest team", default=6, validators=[Optional()])
    hide_quests_until_start = BooleanField("Keep the quests secret until the start")
    freeze_at = LocalDateTimeField("Freeze the public scoreboard at (optional)", validators=[Optional()],
                                   description="From then until the end the public sees the board as it was; "
                                               "organisers still see it live.")
    dynamic_scoring = BooleanField("Dynamic quest values",
                                   description="Each quest is worth less as more entries solve it (set before the start).")


# The choices are what the page offers; the services decide what is allowed, so a stale
# or hand-made choice gets the service's message rather than "Not a valid choice".

class AddQuestForm(Form):
    quest_id = SelectField("Quest", coerce=int, validate_choice=False,
                           validators=[InputRequired(message="Choose a quest.")])


class RegisterTeamForm(Form):
    team_id = SelectField("Team", coerce=int, validate_choice=False,
                          validators=[InputRequired(message="Choose a team.")])


class AddOrganiserForm(Form):
    user_id = SelectField("Organiser", coerce=int, validate_choice=False,
                          validators=[InputRequired(message="Choose an organiser.")])
