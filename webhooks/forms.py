"""Webhook forms: WTForms parses; the rules live in webhooks.services."""
from __future__ import annotations

from wtforms import BooleanField, SelectMultipleField, StringField, URLField, widgets

from forms import Form
from webhooks.services import EVENTS


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form) -> None:
        """Unknown choices are reported by the service, in words."""


class WebhookForm(Form):
    url = URLField("Payload URL", description="We POST JSON here: an https:// URL on the public internet.")
    description = StringField("Description (optional)", description="For you: what receives these events.")
    events = CheckboxesField("Events", choices=list(EVENTS.items()))
    allow_private = BooleanField("Allow private addresses (admins only)",
                                 description="Lets this URL point at loopback or private network addresses.")


class ActionForm(Form):
    """A one-button form: only the CSRF token."""


class AllowPrivateForm(Form):
    allow_private = BooleanField("Allow private addresses")
