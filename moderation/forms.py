from __future__ import annotations

from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from forms import Form, LocalDateTimeField
from moderation.models import REASON_LABELS


class FlagForm(Form):
    reason = RadioField("What is wrong with it?", choices=list(REASON_LABELS.items()),
                        validators=[DataRequired(message="Choose a reason from the list.")])
    text = TextAreaField("Anything a moderator should know (optional)", validators=[Optional(), Length(max=1000)])


class DecisionForm(Form):
    reason = StringField("Reason", validators=[Optional(), Length(max=500)],
                         description="Shown to the owner when hiding or restoring; written to the audit log.")


class SuspendForm(Form):
    reason = TextAreaField("Reason", validators=[DataRequired(message="Say why: the person is shown this."),
                                                 Length(max=500)], description="Shown to the person when they try to log in.")
    until = LocalDateTimeField("Until (optional)", validators=[Optional()],
                               description="Leave empty to suspend until an admin lifts it.")


class LiftForm(Form):
    reason = StringField("Reason (optional)", validators=[Optional(), Length(max=500)])


class WordForm(Form):
    word = StringField("Word or phrase", validators=[DataRequired(), Length(max=60)],
                       description="Matched as whole words, ignoring case and accents.")
