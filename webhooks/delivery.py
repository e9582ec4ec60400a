"""Sending deliveries: claim, POST, log, retry with backoff, give up, disable.

Like notifications/delivery.py these commit as they go, so several workers (and the due
sweep) can run at once:

1. claim: one conditional UPDATE moves a due row pending -> sending (attempts + 1, a
   lease in next_attempt_at) if its webhook is enabled. Commit. Whoever claimed it sends it.
2. POST it, outside any transaction: the URL is checked again (ssrf.check) and the
   connection goes to the checked address, the signature is made with this attempt's
   time, redirects are not followed, and only a 2xx counts as delivered.
3. record: a WebhookAttempt log row, and the row moves to delivered, back to pending with
   the next backoff (the last try falls exactly at the end of the retry window,
   WEBHOOK_RETRY_HOURS after the first attempt), or to failed after that last try. A failed delivery counts against its
   webhook; WEBHOOK_DISABLE_AFTER of them in a row disable it and its owner is emailed.
   Any 2xx resets the count. Commit.

A worker that dies mid-delivery leaves a claim that lapses after CLAIM_LEASE; the row is
then taken again (so a receiver may, rarely, see one delivery twice: the body's "id"
is the event's, for de-duplication).
"""
from __future__ import annotations

import http.client
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import and_, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session

from timeutil import utcnow
from webhooks import signing, ssrf
from webhooks.models import DeliveryState, Webhook, WebhookAttempt, WebhookDelivery
from webhooks.services import secret_for

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=4)
ERROR_MAX = 500
RESPONSE_READ_MAX = 64 * 1024
BATCH_SIZE = 100
USER_AGENT = "FixQuest-Webhooks/1"

Post = Callable[[ssrf.Target, bytes, dict, float], int]


@dataclass(frozen=True)
class Settings:
    signing_key: str
    timeout: float = 5.0
    retry_window: timedelta = timedelta(hours=24)
    disable_after: int = 5

    @classmethod
    def from_config(cls, config) -> Settings:
        from webhooks.services import signing_key

        return cls(signing_key=signing_key(config), timeout=float(config["WEBHOOK_TIMEOUT_SECONDS"]),
                   retry_window=timedelta(hours=int(config["WEBHOOK_RETRY_HOURS"])),
                   disable_after=int(config["WEBHOOK_DISABLE_AFTER"]))


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    state: str
    status_code: int | None
    error: str | None
    next_attempt_at: datetime | None = None
    disabled_webhook: bool = False


def backoff(attempts: int) -> timedelta:
    """Wait after failed try number `attempts`: 1, 2, 4, 8 ... minutes, at most 4 hours."""
    return min(FIRST_BACKOFF * 2 ** max(0, attempts - 1), MAX_BACKOFF)


# --- HTTP ---------------------------------------------------------------------------------------

def _pinned(connection: http.client.HTTPConnection, address: str) -> http.client.HTTPConnection:
    """Make the connection dial `address` (already checked) while Host, SNI and the
    certificate check still use the URL's host name."""
    def create_connection(addr, timeout=None, source_address=None):
        return socket.create_connection((address, addr[1]), timeout, source_address)
    connection._create_connection = create_connection
    return connection


def http_post(target: ssrf.Target, body: bytes, headers: dict, timeout: float) -> int:
    """POST to the first of the checked addresses that accepts a connection; the answer's
    status code. Redirects are not followed (http.client never follows them)."""
    error: OSError | None = None
    for address in target.addresses:
        if target.scheme == "https":
            connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout)
        else:
            connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
        _pinned(connection, address)
        try:
            connection.connect()
        except OSError as exc:
            error = exc
            connection.close()
            continue
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(RESPONSE_READ_MAX)
            return response.status
        finally:
            connection.close()
    raise error or OSError("no address to connect to")


# --- claiming -----------------------------------------------------------------------------------

def _due(now: datetime):
    d = WebhookDelivery
    enabled = exists().where(Webhook.id == d.webhook_id, Webhook.disabled_at.is_(None))
    pings = d.event == "ping"  # a test ping goes out even to a disabled webhook
    return and_(or_(enabled, pings), or_(
        and_(d.state == DeliveryState.pending.value, or_(d.next_attempt_at.is_(None), d.next_attempt_at <= now)),
        and_(d.state == DeliveryState.sending.value, d.next_attempt_at <= now),  # a lapsed claim
    ))


def claim(session: Session, delivery_id: int, *, now: datetime) -> int | None:
    """Take a due delivery for this worker; its attempt number, or None if it is not due
    (sent already, taken by another worker, not yet due, or its webhook is disabled)."""
    first = func.coalesce(WebhookDelivery.first_attempt_at, literal(now, WebhookDelivery.first_attempt_at.type))
    attempts = session.scalar(
        update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, _due(now))
        .values(state=DeliveryState.sending.value, attempts=WebhookDelivery.attempts + 1,
                next_attempt_at=now + CLAIM_LEASE, first_attempt_at=first)
        .returning(WebhookDelivery.attempts).execution_options(synchronize_session=False))
    session.commit()
    return attempts


def due_ids(session: Session, *, now: datetime, limit: int = BATCH_SIZE) -> list[int]:
    stmt = select(WebhookDelivery.id).where(_due(now)).order_by(WebhookDelivery.id).limit(limit)
    ids = list(session.scalars(stmt))
    session.commit()
    return ids


# --- one delivery -------------------------------------------------------------------------------

def headers_for(delivery: WebhookDelivery, secret: str, body: bytes, now: datetime) -> dict:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "FixQuest-Event": delivery.event,
        "FixQuest-Delivery": str(delivery.id),
        signing.HEADER: signing.sign(secret, int(now.timestamp()), body),
    }


def _attempt(target_url: str, allow_private: bool, body: bytes, headers: dict, timeout: float, *,
             post: Post, resolver: ssrf.Resolver | None) -> tuple[int | None, str | None]:
    try:
        target = ssrf.check(target_url, allow_private=allow_private, resolver=resolver)
        status = post(target, body, headers, timeout)
    except ssrf.UnsafeUrl as exc:
        return None, f"refused: {exc.reason}"
    except (OSError, http.client.HTTPException, ValueError) as exc:  # timeouts, refusals, TLS, bad answers
        return None, f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
    if 200 <= status < 300:
        return status, None
    return status, f"HTTP {status}"


def deliver(session: Session, delivery_id: int, *, settings: Settings, now: datetime | None = None,
            post: Post = http_post, resolver: ssrf.Resolver | None = None,
            notify: Callable[[Webhook], None] | None = None) -> Outcome | None:
    """Make one attempt at a delivery if it is due; None if it was not. `now` fixes the
    clock (tests): it dates the attempt, the signature and the next retry."""
    now = now or utcnow()
    attempts = claim(session, delivery_id, now=now)
    if attempts is None:
        return None
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:  # deleted with its webhook meanwhile
        session.commit()
        return None
    webhook = delivery.webhook
    body = delivery.payload.encode()
    headers = headers_for(delivery, secret_for(webhook, settings.signing_key), body, now)
    url, allow_private, first_attempt_at = webhook.url, webhook.allow_private, delivery.first_attempt_at or now
    webhook_id = webhook.id
    session.commit()  # no transaction stays open while the receiver takes its time
    started = time.monotonic()
    status, error = _attempt(url, allow_private, body, headers, settings.timeout, post=post, resolver=resolver)
    duration_ms = int((time.monotonic() - started) * 1000)
    if error:
        log.warning("webhook delivery %s (attempt %s) failed: %s", delivery_id, attempts, error)
    outcome = _record(session, delivery_id, attempts, status=status, error=error, now=now,
                      duration_ms=duration_ms, first_attempt_at=first_attempt_at, settings=settings)
    if outcome.disabled_webhook and notify is not None:
        try:
            notify(session.get(Webhook, webhook_id))
        except Exception:  # the webhook is disabled either way; its page says so
            log.exception("could not tell the owner of webhook %s that it was disabled", webhook_id)
        session.commit()
    return outcome


def _record(session: Session, delivery_id: int, attempts: int, *, status: int | None, error: str | None,
            now: datetime, duration_ms: int, first_attempt_at: datetime, settings: Settings) -> Outcome:
    mine = and_(WebhookDelivery.id == delivery_id, WebhookDelivery.state == DeliveryState.sending.value,
                WebhookDelivery.attempts == attempts)
    window_ends = first_attempt_at + settings.retry_window
    if error is None:
        state, values = DeliveryState.delivered.value, dict(delivered_at=now, next_attempt_at=None)
    elif now < window_ends:  # the last try is at the window's end
        state, values = DeliveryState.pending.value, dict(next_attempt_at=min(now + backoff(attempts), window_ends))
    else:
        state, values = DeliveryState.failed.value, dict(next_attempt_at=None)
    webhook_id = session.scalar(
        update(WebhookDelivery).where(mine)
        .values(state=state, last_status_code=status, last_error=error, **values)
        .returning(WebhookDelivery.webhook_id).execution_options(synchronize_session=False))
    attempt = WebhookAttempt(delivery_id=delivery_id, attempted_at=now, status_code=status, error=error,
                             duration_ms=duration_ms)
    if webhook_id is None:
        # Our claim lapsed and another worker took the row (it records the outcome), or the
        # webhook was deleted meanwhile (then there is nothing to log against).
        if session.get(WebhookDelivery, delivery_id) is not None:
            session.add(attempt)
        session.commit()
        return Outcome(delivery_id, DeliveryState.sending.value, status, error)
    session.add(attempt)
    disabled = False
    if state == DeliveryState.delivered.value:
        session.execute(update(Webhook).where(Webhook.id == webhook_id, Webhook.consecutive_failures != 0)
                        .values(consecutive_failures=0).execution_options(synchronize_session=False))
    elif state == DeliveryState.failed.value:
        disabled = _count_failure(session, webhook_id, now=now, error=error, settings=settings)
    session.commit()
    return Outcome(delivery_id, state, status, error, next_attempt_at=values.get("next_attempt_at"),
                   disabled_webhook=disabled)


def _count_failure(session: Session, webhook_id: int, *, now: datetime, error: str | None,
                   settings: Settings) -> bool:
    """One more delivery given up; disable the webhook at the limit. True if this call
    disabled it (so exactly one worker tells the owner)."""
    failures = session.scalar(update(Webhook).where(Webhook.id == webhook_id)
                              .values(consecutive_failures=Webhook.consecutive_failures + 1)
                              .returning(Webhook.consecutive_failures).execution_options(synchronize_session=False))
    if failures is None or failures < settings.disable_after:
        return False
    reason = f"{failures} deliveries in a row failed after retrying; the last error: {error}"[:ERROR_MAX * 2]
    disabled = session.scalar(update(Webhook).where(Webhook.id == webhook_id, Webhook.disabled_at.is_(None))
                              .values(disabled_at=now, disabled_reason=reason).returning(Webhook.id)
                              .execution_options(synchronize_session=False))
    return disabled is not None


def retry_due(session: Session, *, settings: Settings, now: datetime | None = None, post: Post = http_post,
              resolver: ssrf.Resolver | None = None,
              notify: Callable[[Webhook], None] | None = None) -> list[Outcome]:
    """Send every delivery that is due (first tries whose job was lost, retries whose
    time has come, lapsed claims), batch by batch. For the cron and the worker's tick."""
    outcomes: list[Outcome] = []
    seen: set[int] = set()
    while True:
        clock = now or utcnow()
        ids = [i for i in due_ids(session, now=clock) if i not in seen]
        if not ids:
            return outcomes
        for delivery_id in ids:
            seen.add(delivery_id)
            outcome = deliver(session, delivery_id, settings=settings, now=clock, post=post, resolver=resolver,
                              notify=notify)
            if outcome is not None:
                outcomes.append(outcome)


# --- telling the owner --------------------------------------------------------------------------

def disabled_email(webhook: Webhook, *, mail_from: str, page_url: str | None) -> EmailMessage | None:
    if webhook.owner is None or not webhook.owner.email:
        return None
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = webhook.owner.email
    message["Subject"] = "Your FixQuest webhook was disabled"
    lines = [f"Hello {webhook.owner.display_name},", "",
             "We stopped sending events to your webhook because its deliveries kept failing:", "",
             f"  {webhook.url}", "", f"Why: {webhook.disabled_reason}", "",
             "Once the receiver works again, re-enable it on its page"
             + (f": {page_url}" if page_url else "."),
             "Deliveries still waiting are sent when you re-enable it.", "", "FixQuest"]
    message.set_content("\n".join(lines))
    return message
