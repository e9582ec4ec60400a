"""Helpers for the webhook tests."""
from __future__ import annotations

import json

from flask import current_app
from sqlalchemy import select

from extensions import db
from webhooks import services
from webhooks.delivery import Settings
from webhooks.models import WebhookDelivery


def public_resolver(host, port):
    return ["93.184.216.34"]


def make_webhook(owner, url: str, *, events=(services.PROBLEM_STATUS_CHANGED,), allow_private: bool = True):
    """A webhook registered by `owner` (an admin when private addresses are allowed);
    names other than 127.0.0.1 "resolve" to a public address."""
    resolver = services.ssrf.system_resolver if "127.0.0.1" in url else public_resolver
    webhook = services.register(db.session, actor=owner, url=url, events=events, allow_private=allow_private,
                                resolver=resolver)
    db.session.commit()
    return webhook


def secret(webhook) -> str:
    return services.secret_for(webhook, services.signing_key(current_app.config))


def settings(**kw) -> Settings:
    return Settings.from_config(current_app.config).__class__(
        **{**Settings.from_config(current_app.config).__dict__, **kw})


def deliveries(webhook_id: int | None = None) -> list[WebhookDelivery]:
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.id)
    if webhook_id is not None:
        stmt = stmt.where(WebhookDelivery.webhook_id == webhook_id)
    db.session.expire_all()
    return list(db.session.scalars(stmt))


def body_of(request) -> dict:
    return json.loads(request.body)
