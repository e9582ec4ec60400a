"""Your account's settings in the API, through the same services as the pages:

  * API tokens (the API tokens page): list them (name, scope, dates; never the token, of
    which only a digest is kept) and revoke one;
  * what you follow (the notification settings page): list, change how one is delivered
    (at once, daily digest, in-app only), stop one;
  * following an area (a circle or a box such as a ward) or a category (the /follow page).

Someone else's token or subscription answers 404, as on the pages: ids reveal nothing.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, url_for

from accounts import services as accounts
from accounts.models import ApiToken, User
from api import bp
from api.auth import token_required
from api.parsing import (MAX_ID, WrongType, json_body, number, one_of, page_args, paginated_list, read_args,
                         read_fields, text)
from challenges import tracker
from challenges.models import Delivery, Subscription, SubscriptionKind
from extensions import db
from notifications import services as notifications
from timeutil import isoformat

ID = f"int(max={MAX_ID})"
DELIVERIES = tuple(d.value for d in Delivery)


def token_json(row: ApiToken) -> dict:
    return {"id": row.id, "name": row.name, "scope": row.scope, "created_at": isoformat(row.created_at),
            "last_used_at": isoformat(row.last_used_at), "revoked_at": isoformat(row.revoked_at)}


def _area(subscription: Subscription) -> dict | None:
    if subscription.kind != SubscriptionKind.area.value:
        return None
    if subscription.radius_m is not None:
        return {"kind": "circle", "lat": subscription.centre_lat, "lon": subscription.centre_lon,
                "radius_m": subscription.radius_m}
    return {"kind": "bbox", "bbox": [subscription.min_lon, subscription.min_lat,
                                     subscription.max_lon, subscription.max_lat]}


def subscription_json(subscription: Subscription) -> dict:
    return {"id": subscription.id, "kind": subscription.kind, "delivery": subscription.delivery,
            "description": notifications.describe_subscription(subscription),
            "problem_id": subscription.problem_id, "category": subscription.category,
            "area": _area(subscription), "created_at": isoformat(subscription.created_at),
            "url": url_for("api.my_subscription", subscription_id=subscription.id)}


def bbox(value: Any) -> tuple[float, float, float, float]:
    """[minlon, minlat, maxlon, maxlat] as a JSON array of four numbers."""
    if not isinstance(value, list) or len(value) != 4:
        raise WrongType("Expected [minlon, minlat, maxlon, maxlat]: four numbers.")
    return tuple(number(item) for item in value)  # type: ignore[return-value]


# --- API tokens ------------------------------------------------------------------------------

@bp.get("/tokens")
@token_required
def my_tokens(actor: User):
    """Your API tokens, live first, newest first (revoked ones stay listed), as the tokens page."""
    args = read_args(**page_args())
    return paginated_list(accounts.tokens_of(db.session, actor), token_json, args)


@bp.delete(f"/tokens/<{ID}:token_id>")
@token_required
def revoke_my_token(actor: User, token_id: int):
    """Revoke one of your tokens at once (revoking one already revoked changes nothing)."""
    row = accounts.revoke_token(db.session, actor=actor, token_id=token_id)
    db.session.commit()
    return token_json(row)


# --- what you follow ---------------------------------------------------------------------------

@bp.get("/me/subscriptions")
@token_required
def my_subscriptions(actor: User):
    """Everything you follow (problems, areas, categories), as the notification settings page."""
    args = read_args(**page_args())
    return paginated_list(notifications.subscriptions_of(db.session, actor.id), subscription_json, args)


@bp.get(f"/me/subscriptions/<{ID}:subscription_id>")
@token_required
def my_subscription(actor: User, subscription_id: int):
    return subscription_json(notifications.own_subscription(db.session, actor=actor,
                                                            subscription_id=subscription_id))


@bp.patch(f"/me/subscriptions/<{ID}:subscription_id>")
@token_required
def change_my_subscription(actor: User, subscription_id: int):
    """How to tell you: {"delivery": "immediate"|"digest"|"in_app"}."""
    values = read_fields(json_body(), {"delivery": text}, required=("delivery",))
    subscription = notifications.set_delivery(db.session, actor=actor, subscription_id=subscription_id,
                                              delivery=values["delivery"])
    db.session.commit()
    return subscription_json(subscription)


@bp.delete(f"/me/subscriptions/<{ID}:subscription_id>")
@token_required
def stop_my_subscription(actor: User, subscription_id: int):
    """Stop following (emails it earned that have not gone out are cancelled)."""
    notifications.unsubscribe(db.session, actor=actor, subscription_id=subscription_id)
    db.session.commit()
    return {"id": subscription_id, "following": False}


@bp.post("/me/follows")
@token_required
def follow_area_or_category(actor: User):
    """Follow new problems in an area, {"kind": "area", "lat", "lon", "radius_m"} or
    {"kind": "area", "bbox": [minlon, minlat, maxlon, maxlat]}, or in a category,
    {"kind": "category", "category"}; optional "delivery" (default immediate)."""
    values = read_fields(json_body(), {"kind": one_of("area", "category"), "lat": number, "lon": number,
                                       "radius_m": number, "bbox": bbox, "category": text, "delivery": text},
                         required=("kind",))
    delivery = values["delivery"] or Delivery.immediate.value
    if values["kind"] == "category":
        subscription = tracker.subscribe_category(db.session, actor=actor, category=values["category"] or "",
                                                  categories=current_app.config["CATEGORIES"], delivery=delivery)
    else:
        subscription = tracker.subscribe_area(db.session, actor=actor, lat=values["lat"], lon=values["lon"],
                                              radius_m=values["radius_m"], bbox=values["bbox"], delivery=delivery)
    db.session.commit()
    return subscription_json(subscription), 201, {"Location": url_for("api.my_subscription",
                                                                      subscription_id=subscription.id)}
