from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField

from challenges.models import Delivery

DELIVERY_CHOICES = [
    (Delivery.immediate.value, "Email at once"),
    (Delivery.digest.value, "Daily digest email"),
    (Delivery.in_app.value, "In FixQuest only"),
]


class DeliveryForm(FlaskForm):
    delivery = SelectField("How to tell you", choices=DELIVERY_CHOICES)


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token."""
