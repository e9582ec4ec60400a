"""Registering webhooks and emitting events to them.

`emit(session, event, payload)` is what the rest of the app calls, inside its own
transaction: it finds the enabled webhooks that want the event (one indexed lookup,
nothing more when nobody does), adds one WebhookDelivery row each with the JSON body, and
queues their ids on the session. After the commit the ids go to the job queue
(webhooks/jobs.py); after a rollback nothing was written and nothing is sent. The
helpers `problem_created`, `problem_status_changed` and `claim_approved` build the
public payloads for the hooks in challenges/.

Who owns a webhook: an organiser or admin account (not an Open311 api_key), so the owner
can log in to manage it and be told when it is disabled. Admins see and manage all.

Like the other services these take the session explicitly, raise DomainError subclasses
and flush; the caller commits.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

import aftercommit
from accounts.models import User
from errors import Conflict, Forbidden, NotFound, ValidationFailed
from timeutil import isoformat, utcnow
from webhooks import ssrf
from webhooks.models import DeliveryState, Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent

PENDING_KEY = "fixquest.webhook_deliveries_pending"

PROBLEM_CREATED = "problem.created"
PROBLEM_STATUS_CHANGED = "problem.status_changed"
CLAIM_APPROVED = "claim.approved"
CAMPAIGN_MILESTONE = "campaign.milestone"
PING = "ping"  # sent only by the "Send a test ping" button, to one webhook

EVENTS: dict[str, str] = {
    PROBLEM_CREATED: "A problem is reported",
    PROBLEM_STATUS_CHANGED: "A problem's status changes",
    CLAIM_APPROVED: "A claim on a quest is approved",
    CAMPAIGN_MILESTONE: "A campaign reaches a milestone",
}

URL_MAX = 2000
DESCRIPTION_MAX = 80
MAX_PER_OWNER = 20
LOG_LIMIT = 50


class WebhookNotFound(NotFound):
    """Unknown, or not the actor's to see: both answer 404, so ids reveal nothing."""

    def __init__(self, webhook_id: int):
        super().__init__("webhook", webhook_id)
        self.webhook_id = webhook_id


class TooManyWebhooks(Conflict):
    code = "too_many_webhooks"

    def __init__(self, owner_id: int, limit: int):
        super().__init__(f"You have {limit} webhooks already; delete one first.")
        self.owner_id = owner_id
        self.limit = limit


# --- secrets ----------------------------------------------------------------------------------

def signing_key(config) -> str:
    return config.get("WEBHOOK_SIGNING_KEY") or config["SECRET_KEY"]


def secret_for(webhook: Webhook, key: str) -> str:
    """The webhook's signing secret: HMAC(server key, id and salt). Nothing secret is
    stored, it can be shown to the owner again, and a new salt rotates it."""
    digest = hmac.new(key.encode(), f"fixquest-webhook:{webhook.id}:{webhook.secret_salt}".encode(),
                      hashlib.sha256).hexdigest()
    return f"whsec_{digest}"


# --- authorisation ----------------------------------------------------------------------------

def may_register(actor: User) -> bool:
    return actor.is_authenticated and actor.is_organiser


def may_manage(actor: User, webhook: Webhook) -> bool:
    return actor.is_authenticated and (actor.is_admin or (actor.is_organiser and webhook.owner_id == actor.id))


def get_webhook(session: Session, *, actor: User, webhook_id: int) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or not may_manage(actor, webhook):
        raise WebhookNotFound(webhook_id)
    return webhook


def webhooks_of(session: Session, *, actor: User) -> list[Webhook]:
    """The actor's webhooks (an admin: everyone's), newest first, with owners and events."""
    stmt = select(Webhook).options(selectinload(Webhook.events), selectinload(Webhook.owner)) \
        .order_by(Webhook.id.desc())
    if not actor.is_admin:
        stmt = stmt.where(Webhook.owner_id == actor.id)
    return list(session.scalars(stmt))


def deliveries_of(session: Session, webhook: Webhook, *, limit: int = LOG_LIMIT) -> list[WebhookDelivery]:
    """The delivery log: the latest deliveries, newest first, each with its attempts."""
    return list(session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
                                .options(selectinload(WebhookDelivery.log))
                                .order_by(WebhookDelivery.id.desc()).limit(limit)))


# --- registration -----------------------------------------------------------------------------

def _check_events(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events))
    if not chosen:
        raise ValidationFailed({"events": ["Choose at least one event."]})
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown:
        raise ValidationFailed({"events": [f"Unknown event: {', '.join(unknown)}."]})
    return chosen


def check_url(url: str, *, allow_private: bool, resolver: ssrf.Resolver | None = None) -> str:
    url = (url or "").strip()
    if not url:
        raise ValidationFailed({"url": ["Enter the URL to send events to."]})
    if len(url) > URL_MAX:
        raise ValidationFailed({"url": [f"Keep the URL to {URL_MAX} characters or fewer."]})
    try:
        ssrf.check(url, allow_private=allow_private, resolver=resolver)
    except ssrf.UnsafeUrl as exc:
        raise ValidationFailed({"url": [exc.reason]}) from None
    return url


def register(session: Session, *, actor: User, url: str, events: Iterable[str], description: str | None = None,
             allow_private: bool = False, resolver: ssrf.Resolver | None = None,
             now: datetime | None = None) -> Webhook:
    if not may_register(actor):
        raise Forbidden("register a webhook", "only organisers and admins do that.")
    if allow_private and not actor.is_admin:
        raise Forbidden("allow private addresses", "only admins do that.")
    description = (description or "").strip() or None
    fields: dict[str, list[str]] = {}
    if description and len(description) > DESCRIPTION_MAX:
        fields["description"] = [f"Keep this to {DESCRIPTION_MAX} characters or fewer."]
    chosen: list[str] = []
    try:
        chosen = _check_events(events)
    except ValidationFailed as error:
        fields.update(error.fields)
    try:
        url = check_url(url, allow_private=allow_private, resolver=resolver)
    except ValidationFailed as error:
        fields.update(error.fields)
    if fields:
        raise ValidationFailed(fields)
    owned = session.scalar(select(func.count()).select_from(Webhook).where(Webhook.owner_id == actor.id))
    if owned >= MAX_PER_OWNER:
        raise TooManyWebhooks(actor.id, MAX_PER_OWNER)
    webhook = Webhook(owner_id=actor.id, url=url, description=description, secret_salt=secrets.token_hex(16),
                      allow_private=allow_private, consecutive_failures=0, created_at=now or utcnow())
    webhook.events = [WebhookEvent(event=event) for event in chosen]
    session.add(webhook)
    session.flush()
    return webhook


def set_allow_private(session: Session, *, actor: User, webhook: Webhook, allow: bool) -> Webhook:
    """An admin's decision that this webhook may (or may no longer) call private addresses."""
    if not actor.is_admin:
        raise Forbidden("allow private addresses", "only admins do that.")
    webhook.allow_private = bool(allow)
    session.flush()
    return webhook


def rotate_secret(session: Session, *, actor: User, webhook: Webhook) -> Webhook:
    if not may_manage(actor, webhook):
        raise WebhookNotFound(webhook.id)
    webhook.secret_salt = secrets.token_hex(16)
    session.flush()
    return webhook


def enable(session: Session, *, actor: User, webhook: Webhook, now: datetime | None = None) -> Webhook:
    """Re-enable a disabled webhook: its failure count starts again, and deliveries still
    pending go out at once."""
    if not may_manage(actor, webhook):
        raise WebhookNotFound(webhook.id)
    if webhook.enabled:
        raise Conflict("This webhook is already enabled.")
    now = now or utcnow()
    webhook.disabled_at = None
    webhook.disabled_reason = None
    webhook.consecutive_failures = 0
    pending = list(session.scalars(
        update(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id,
                                      WebhookDelivery.state == DeliveryState.pending.value)
        .values(next_attempt_at=now).returning(WebhookDelivery.id).execution_options(synchronize_session=False)))
    session.flush()
    for delivery_id in sorted(pending):
        aftercommit.queue(session, PENDING_KEY, delivery_id)
    return webhook


def remove(session: Session, *, actor: User, webhook: Webhook) -> None:
    """Delete a webhook with its deliveries and their log (explicitly: SQLite does not
    enforce the foreign keys' ON DELETE CASCADE)."""
    if not may_manage(actor, webhook):
        raise WebhookNotFound(webhook.id)
    _delete(session, webhook)


def remove_all_of(session: Session, *, owner_id: int) -> int:
    """Delete every webhook a person owns (their account is being deleted); returns how many."""
    webhooks = session.scalars(select(Webhook).where(Webhook.owner_id == owner_id)).all()
    for webhook in webhooks:
        _delete(session, webhook)
    return len(webhooks)


def _delete(session: Session, webhook: Webhook) -> None:
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == webhook.id)
    session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries))
                    .execution_options(synchronize_session=False))
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
                    .execution_options(synchronize_session=False))
    session.delete(webhook)
    session.flush()


# --- emitting ---------------------------------------------------------------------------------

def envelope(*, event: str, event_id: str, created_at: datetime, data: dict) -> str:
    """The JSON body every delivery carries."""
    return json.dumps({"id": event_id, "event": event, "created_at": isoformat(created_at), "data": data},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _queue(session: Session, webhook_ids: Iterable[int], *, event: str, data: dict, now: datetime) -> int:
    event_id = uuid.uuid4().hex
    body = envelope(event=event, event_id=event_id, created_at=now, data=data)
    rows = [WebhookDelivery(webhook_id=webhook_id, event=event, event_id=event_id, payload=body,
                            state=DeliveryState.pending.value, attempts=0, next_attempt_at=now, created_at=now)
            for webhook_id in webhook_ids]
    session.add_all(rows)
    session.flush()
    for row in rows:
        aftercommit.queue(session, PENDING_KEY, row.id)
    return len(rows)


def emit(session: Session, event: str, payload: dict | Callable[[], dict], *,
         now: datetime | None = None) -> int:
    """Tell every enabled webhook that wants `event`, once the caller's transaction
    commits. `payload` (public data only) may be a function, called only when someone
    subscribed. Returns the number of deliveries queued."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    webhook_ids = list(session.scalars(
        select(WebhookEvent.webhook_id).join(Webhook, Webhook.id == WebhookEvent.webhook_id)
        .where(WebhookEvent.event == event, Webhook.disabled_at.is_(None)).order_by(WebhookEvent.webhook_id)))
    if not webhook_ids:
        return 0
    data = payload() if callable(payload) else payload
    return _queue(session, webhook_ids, event=event, data=data, now=now or utcnow())


def ping(session: Session, *, actor: User, webhook: Webhook, now: datetime | None = None) -> WebhookDelivery:
    """A test delivery to this one webhook (even a disabled one, to check it works again)."""
    if not may_manage(actor, webhook):
        raise WebhookNotFound(webhook.id)
    now = now or utcnow()
    _queue(session, [webhook.id], event=PING, data={"webhook_id": webhook.id, "events": webhook.event_names},
           now=now)
    return session.scalars(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
                           .order_by(WebhookDelivery.id.desc()).limit(1)).one()


# --- payloads (public data only: no emails, no children, nobody hidden) -----------------------

def _public_url(endpoint: str, **values) -> str | None:
    from notifications.mail import absolute_url

    try:
        return absolute_url(endpoint, **values)
    except Exception:  # no app or no such endpoint: the payload goes without a link
        return None


def problem_data(problem) -> dict[str, Any]:
    """The problem as the public API shows it (no reporter: people are not named)."""
    from api.serializers import problem_json

    return {**problem_json(problem), "url": _public_url("challenges.problem", problem_id=problem.id)}


def public_name(user: User | None) -> str | None:
    """A display name only where it is public anyway: never a child's, nor a hidden player's."""
    if user is None or user.unnamed_in_public:
        return None
    return user.display_name


def problem_created(session: Session, problem) -> int:
    return emit(session, PROBLEM_CREATED, lambda: {"problem": problem_data(problem)}, now=problem.created_at)


def problem_status_changed(session: Session, entry) -> int:
    """`entry` is the status ProblemUpdate (its note is public in the problem's history)."""
    return emit(session, PROBLEM_STATUS_CHANGED, lambda: {
        "problem": problem_data(entry.problem), "old_status": entry.old_status, "new_status": entry.new_status,
        "note": entry.body, "changed_at": isoformat(entry.created_at)}, now=entry.created_at)


def campaign_milestone(session: Session, campaign, *, percent: int, count: int, reached_at: datetime) -> int:
    """A campaign reached 25, 50, 75 or 100 % of its goal (each once): public facts, nobody named."""
    return emit(session, CAMPAIGN_MILESTONE, lambda: {
        "campaign": {"id": campaign.id, "title": campaign.title, "goal": campaign.goal,
                     "url": _public_url("campaigns.campaign", campaign_id=campaign.id)},
        "percent": percent, "count": count, "reached_at": isoformat(reached_at)}, now=reached_at)


def _team_data(session: Session, team) -> dict:
    """A team as the public may see it: a private class team is "a school class", with no id."""
    from accounts.services import is_private_class
    from childsafe.views import CLASS_STAND_IN

    if is_private_class(session, team.id):
        return {"id": None, "name": CLASS_STAND_IN}
    return {"id": team.id, "name": team.name}


def claim_approved(session: Session, claim) -> int:
    def build() -> dict:
        quest = claim.quest
        return {
            "claim": {"id": claim.id, "status": claim.status, "approved_at": isoformat(claim.decided_at)},
            "quest": {"id": quest.id, "title": quest.title, "points": quest.points, "problem_id": quest.problem_id,
                      "url": _public_url("challenges.quest", quest_id=quest.id)},
            "participant": public_name(claim.user),
            "team": _team_data(session, claim.team) if claim.team_id else None,
        }
    return emit(session, CLAIM_APPROVED, build, now=claim.decided_at)


# --- after commit -----------------------------------------------------------------------------

def enqueue_deliveries(delivery_ids: list) -> None:
    """After the commit: one job per delivery. A lost job is found by `flask webhooks retry-due`."""
    from webhooks.jobs import deliver_job

    jobs = current_app.extensions.get("fixquest.jobs")
    if jobs is None:
        return
    for delivery_id in delivery_ids:
        try:
            jobs.enqueue(deliver_job, delivery_id)
        except Exception:  # the row is committed; the due sweep sends it
            current_app.logger.exception("could not enqueue webhook delivery %s", delivery_id)


def install() -> None:
    aftercommit.on_commit(PENDING_KEY, enqueue_deliveries)
