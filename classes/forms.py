from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from classes import words
from classes.models import SecretKind
from classes.services import MAX_CLASS_SIZE
from forms import Form, WholeNumberField

_PICTURE_CHOICES = [(code, name) for code, name, _ in words.PICTURES]  # symbols are drawn beside the words
_SECRET_CHOICES = [(SecretKind.password, "Passwords (two words and a number), for readers"),
                   (SecretKind.pictures, "Picture-PINs (four pictures in order), for younger children")]


class ClassForm(Form):
    name = StringField("Class name", validators=[DataRequired(), Length(min=2, max=60)],
                       description="Shown as a team on public boards, e.g. \u201cYear 5 Oak, Hillside Primary\u201d. "
                                   "Children are never shown.")
    size = WholeNumberField("Number of children", validators=[InputRequired(message="Enter how many children."),
                                                              NumberRange(1, MAX_CLASS_SIZE)],
                            description=f"1 to {MAX_CLASS_SIZE}. Each gets a made-up name and a login card.")
    secret_kind = RadioField("How children log in", choices=_SECRET_CHOICES, default=SecretKind.password,
                             validators=[InputRequired(message="Choose how children log in.")])


class AddChildrenForm(Form):
    count = WholeNumberField("Children to add", validators=[InputRequired(message="Enter how many children."),
                                                            NumberRange(1, MAX_CLASS_SIZE)])


class SettingsForm(Form):
    streaks_enabled = BooleanField("Weekly streaks for the children")
    show_in_rankings = BooleanField(_l("Show the class in public (the team list, its team page and the rankings)"))


class ConfirmForm(Form):
    confirm = BooleanField("I understand this cannot be undone",
                           validators=[DataRequired(message="Tick the box to confirm.")])


class DecisionForm(Form):
    decision = HiddenField(validators=[AnyOf(("approve", "refuse"), message="Approve or refuse.")])


class ChildLoginForm(Form):
    code = StringField("Class code", validators=[DataRequired(message="Type the class code from your card."),
                                                 Length(max=8)])
    card_name = StringField("Your name on the card", validators=[DataRequired(message="Type the name on your card."),
                                                                 Length(max=40)])
    password = PasswordField("Password", validators=[Optional(), Length(max=64)],
                             description="If your card has a password.")
    pic1 = RadioField("First picture", choices=_PICTURE_CHOICES, validators=[Optional()], validate_choice=False)
    pic2 = RadioField("Second picture", choices=_PICTURE_CHOICES, validators=[Optional()], validate_choice=False)
    pic3 = RadioField("Third picture", choices=_PICTURE_CHOICES, validators=[Optional()], validate_choice=False)
    pic4 = RadioField("Fourth picture", choices=_PICTURE_CHOICES, validators=[Optional()], validate_choice=False)

    @property
    def pictures(self) -> list[str]:
        chosen = [f.data for f in (self.pic1, self.pic2, self.pic3, self.pic4) if f.data]
        return chosen if len(chosen) == words.PIN_LENGTH else []


class SafeNameForm(Form):
    adjective = SelectField("First word", choices=[(w, w) for w in words.ADJECTIVES])
    noun = SelectField("Second word", choices=[(w, w) for w in words.NATURE_WORDS])


class FreeNameForm(Form):
    name = StringField("A name of your own", validators=[DataRequired(message="Type a name."), Length(min=2, max=40)],
                       description="Your teacher checks it first. Please do not use your real name.")
