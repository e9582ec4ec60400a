from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from accounts.models import Role
from forms import Form, WholeNumberField


class RegisterForm(Form):
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=40)],
                               description=_l("Shown publicly on leaderboards and teams. Not your real name, "
                                              "if you prefer."))
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)],
                       description=_l("Private: never shown to anyone else."))
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)],
                             description=_l("At least 10 characters."))
    confirm = PasswordField(_l("Repeat password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))])


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    next = HiddenField()


class ForgotPasswordForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)],
                       description="The address you registered with. We will email it a link.")


class ResetPasswordForm(Form):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=128)],
                             description="At least 10 characters.", render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Repeat new password", render_kw={"autocomplete": "new-password"},
                            validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")])


class TokenForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)],
                       description="What will use it, e.g. \u201cMy phone\u201d or \u201cWard dashboard\u201d.")
    scope = RadioField("It may", default="read", choices=[
        ("read", "Read: see what you can see (nothing changes)"),
        ("write", "Write: also act for you (report, claim, submit, review)")])


class TeamForm(Form):
    name = StringField("Team name", validators=[DataRequired(), Length(min=2, max=60)])


class JoinTeamForm(Form):
    code = StringField(_l("Join code"), validators=[DataRequired(), Length(max=16)],
                       description=_l("Ask your team captain or teacher for the 8-character code."))


class CaptainForm(Form):
    new_captain_id = SelectField("New captain", coerce=int)


EXPIRY_CHOICES = [("", "Until I change it"), ("1", "For 1 day"), ("7", "For 7 days"), ("30", "For 30 days")]


class JoinCodeForm(Form):
    """A new join code; the old one stops working at once."""
    expires = SelectField("The new code works", choices=EXPIRY_CHOICES, id="code-expires")


class InviteForm(Form):
    expires = SelectField("The link works", choices=EXPIRY_CHOICES, id="invite-expires")
    single_use = BooleanField("For one person only (the link stops working once someone joins with it)",
                              id="invite-single-use")


class TeamSizeForm(Form):
    max_size = WholeNumberField("Most members", validators=[Optional()],
                                description="Leave empty for the site's limit.")


class RoleForm(Form):
    role = SelectField("Role", choices=[(r.value, r.value) for r in Role])


class EmptyForm(Form):
    """A form with only the CSRF token, for one-button actions (log out, leave, claim)."""


class DeleteAccountForm(Form):
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=128)],
                             description="To be sure it is you: nothing is deleted without it.",
                             render_kw={"autocomplete": "current-password"})
