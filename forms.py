"""Form building blocks shared by the packages' forms."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import FloatField, IntegerField
from wtforms.fields import DateTimeLocalField


class Form(FlaskForm):
    """Base of every FixQuest form: CSRF from Flask-WTF, plus a refusal of NUL characters,
    which no person means to type and which PostgreSQL cannot store in text."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field.data, str) and "\x00" in field.data:
                field.errors = list(field.errors) + [_("Remove the invisible control character (NUL) from this text.")]
                valid = False
        return valid


class NumberField(FloatField):
    """A decimal number with a message a person understands when it does not parse."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            try:
                self.data = float(valuelist[0])
            except ValueError:
                self.data = None
                raise ValueError(_("Enter a number, like 51.4545.")) from None
        else:
            self.data = None


class WholeNumberField(IntegerField):
    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            try:
                self.data = int(valuelist[0])
            except ValueError:
                self.data = None
                raise ValueError(_("Enter a whole number, like 50.")) from None
        else:
            self.data = None


class LocalDateTimeField(DateTimeLocalField):
    """A date and time typed in the site's time zone; `data` is naive local time."""

    def process_formdata(self, valuelist):
        if valuelist and valuelist[0].strip():
            super().process_formdata(valuelist)
        else:
            self.data = None

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%dT%H:%M")
        super().__init__(*args, **kwargs)
        self.formats = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M")


def to_utc(local: datetime | None, zone: str) -> datetime | None:
    """A naive time in the site's zone as an aware UTC datetime."""
    if local is None:
        return None
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(ZoneInfo("UTC"))
