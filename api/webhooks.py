"""Webhooks in the API, for organisers and admins, through webhooks.services as the webhook
pages: list, register, show with the delivery log, a new signing secret, a test ping,
enable again, delete; admins allow private addresses.

As on the pages: a participant is refused (403); a webhook that is not yours (unless you
are an admin) answers 404, so ids reveal nothing; the URL passes the same SSRF check. The
signing secret is in the answer to registering and to making a new one, and nowhere else
(`Cache-Control: no-store`).
"""
from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from accounts.models import User
from api import bp
from api.auth import token_required
from api.parsing import MAX_ID, WrongType, boolean, json_body, page_args, paginated_list, read_args, read_fields, text
from errors import Forbidden
from extensions import db
from timeutil import isoformat
from webhooks import services
from webhooks.models import DeliveryState, Webhook, WebhookDelivery

ID = f"int(max={MAX_ID})"
NO_STORE = {"Cache-Control": "no-store"}


def _organiser(actor: User) -> User:
    """The webhook pages' gate: organisers and admins only."""
    if not services.may_register(actor):
        raise Forbidden("manage webhooks", "only organisers and admins do that.")
    return actor


def _webhook(actor: User, webhook_id: int) -> Webhook:
    return services.get_webhook(db.session, actor=_organiser(actor), webhook_id=webhook_id)


def _secret(webhook: Webhook) -> str:
    return services.secret_for(webhook, services.signing_key(current_app.config))


def webhook_json(webhook: Webhook) -> dict:
    return {"id": webhook.id, "url": webhook.url, "description": webhook.description,
            "events": webhook.event_names, "enabled": webhook.enabled,
            "disabled_at": isoformat(webhook.disabled_at), "disabled_reason": webhook.disabled_reason,
            "allow_private": webhook.allow_private,
            "owner": {"id": webhook.owner_id, "name": webhook.owner.display_name},
            "created_at": isoformat(webhook.created_at), "link": url_for("api.webhook", webhook_id=webhook.id)}


def delivery_json(delivery: WebhookDelivery) -> dict:
    """One line of the delivery log, as the webhook page shows it."""
    return {"id": delivery.id, "event": delivery.event, "state": delivery.state,
            "created_at": isoformat(delivery.created_at), "delivered_at": isoformat(delivery.delivered_at),
            "next_attempt_at": isoformat(delivery.next_attempt_at)
            if delivery.state == DeliveryState.pending.value else None,
            "attempts": [{"attempted_at": isoformat(a.attempted_at), "status_code": a.status_code,
                          "error": None if a.status_code else a.error, "duration_ms": a.duration_ms}
                         for a in delivery.log]}


def events(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise WrongType("Expected a list of event names.")
    return value


@bp.get("/webhooks")
@token_required
def list_webhooks(actor: User):
    """Your webhooks (an admin: everyone's), newest first."""
    args = read_args(**page_args())
    return paginated_list(services.webhooks_of(db.session, actor=_organiser(actor)), webhook_json, args)


@bp.post("/webhooks")
@token_required
def register_webhook(actor: User):
    """Register {"url", "events": [...], "description"?, "allow_private"? (admins)}; the answer
    carries the signing secret."""
    values = read_fields(json_body(), {"url": text, "events": events, "description": text,
                                       "allow_private": boolean})
    webhook = services.register(db.session, actor=_organiser(actor), url=values["url"] or "",
                                events=values["events"] or [], description=values["description"],
                                allow_private=bool(values["allow_private"]))
    db.session.commit()
    return ({**webhook_json(webhook), "secret": _secret(webhook)}, 201,
            {"Location": url_for("api.webhook", webhook_id=webhook.id), **NO_STORE})


@bp.get(f"/webhooks/<{ID}:webhook_id>")
@token_required
def webhook(actor: User, webhook_id: int):
    """A webhook with its latest deliveries (newest first), each with its attempts."""
    found = _webhook(actor, webhook_id)
    return {**webhook_json(found),
            "deliveries": [delivery_json(d) for d in services.deliveries_of(db.session, found)]}


@bp.delete(f"/webhooks/<{ID}:webhook_id>")
@token_required
def delete_webhook(actor: User, webhook_id: int):
    """Delete a webhook with its delivery log."""
    services.remove(db.session, actor=actor, webhook=_webhook(actor, webhook_id))
    db.session.commit()
    return {"id": webhook_id, "deleted": True}


@bp.post(f"/webhooks/<{ID}:webhook_id>/secret")
@token_required
def rotate_webhook_secret(actor: User, webhook_id: int):
    """A new signing secret, in this answer only; the old one stops signing at once."""
    found = services.rotate_secret(db.session, actor=actor, webhook=_webhook(actor, webhook_id))
    db.session.commit()
    return {"webhook_id": found.id, "secret": _secret(found)}, 200, NO_STORE


@bp.post(f"/webhooks/<{ID}:webhook_id>/ping")
@token_required
def ping_webhook(actor: User, webhook_id: int):
    """Queue a test delivery (event "ping"), even to a disabled webhook; answers with it."""
    delivery = services.ping(db.session, actor=actor, webhook=_webhook(actor, webhook_id))
    db.session.commit()
    return delivery_json(delivery)


@bp.post(f"/webhooks/<{ID}:webhook_id>/enable")
@token_required
def enable_webhook(actor: User, webhook_id: int):
    """Enable a disabled webhook again (an enabled one: 409); waiting deliveries go out now."""
    found = services.enable(db.session, actor=actor, webhook=_webhook(actor, webhook_id))
    db.session.commit()
    return webhook_json(found)


@bp.post(f"/webhooks/<{ID}:webhook_id>/allow-private")
@token_required
def allow_private_addresses(actor: User, webhook_id: int):
    """Admins: {"allow_private": true|false}, whether this webhook may call private addresses."""
    values = read_fields(json_body(), {"allow_private": boolean}, required=("allow_private",))
    found = services.set_allow_private(db.session, actor=actor, webhook=_webhook(actor, webhook_id),
                                       allow=values["allow_private"])
    db.session.commit()
    return webhook_json(found)
