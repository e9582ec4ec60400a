"""Sending the email notifications: immediate ones with retries, and the daily digest.

Unlike the services, these functions commit as they go, because that is what makes them
safe to run in several workers at once and to re-run:

1. claim: one conditional UPDATE moves due rows pending -> sending (attempts + 1, a lease
   in next_attempt_at) and returns their ids; on PostgreSQL the candidate rows are picked
   with FOR UPDATE SKIP LOCKED so racing workers take different rows. Commit.
2. send each email, then move its row sending -> sent (or back to pending with a backoff,
   or to failed after the last attempt). Commit after each.

A row is sent by whoever claimed it; a claim whose worker died lapses after CLAIM_LEASE
and the row is taken again. That is the only way an email can go out twice: the worker
died after the SMTP server accepted it and before the commit that records it.
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, joinedload

from challenges.models import ProblemUpdate, Subscription
from notifications import mail
from notifications.models import Channel, Notification, NotificationState
from notifications.services import describe_subscription, describe_update
from timeutil import utcnow

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=10)
BATCH_SIZE = 100
ERROR_MAX = 1000


def backoff(attempts: int) -> timedelta:
    """Wait before try number attempts + 1: 1, 5, 25, 125, 625 minutes ..."""
    return timedelta(minutes=5 ** max(0, attempts - 1))


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    next_retry_at: datetime | None = None

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        if other.next_retry_at and (self.next_retry_at is None or other.next_retry_at < self.next_retry_at):
            self.next_retry_at = other.next_retry_at


def _due_email(now: datetime):
    n = Notification
    return and_(n.channel == Channel.email.value, or_(
        and_(n.state == NotificationState.pending.value,
             or_(n.next_attempt_at.is_(None), n.next_attempt_at <= now)),
        and_(n.state == NotificationState.sending.value, n.next_attempt_at <= now),  # a lapsed claim
    ))


def claim_due(session: Session, *, now: datetime, update_id: int | None = None,
              limit: int = BATCH_SIZE, lease: timedelta = CLAIM_LEASE) -> list[int]:
    """Claim up to `limit` due email rows for this worker and commit the claim.

    Two statements, not UPDATE ... WHERE id IN (SELECT ... LIMIT ... SKIP LOCKED): PostgreSQL
    may run such a subquery once per row, and then the LIMIT limits nothing."""
    due = _due_email(now)
    candidates = select(Notification.id).where(due).order_by(Notification.id).limit(limit)
    if update_id is not None:
        candidates = candidates.where(Notification.update_id == update_id)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    picked = list(session.scalars(candidates))
    if not picked:
        session.commit()
        return []
    # `due` again in the UPDATE: a row another worker claimed meanwhile no longer matches
    # (SQLite has no row locks; on PostgreSQL the rows are locked by the SELECT).
    ids = list(session.scalars(
        update(Notification).where(Notification.id.in_(picked), due)
        .values(state=NotificationState.sending.value, attempts=Notification.attempts + 1,
                next_attempt_at=now + lease)
        .returning(Notification.id).execution_options(synchronize_session=False)))
    session.commit()
    return sorted(ids)


def _finish(session: Session, notification_id: int, claimed: str, **values) -> None:
    session.execute(update(Notification).where(Notification.id == notification_id, Notification.state == claimed)
                    .values(**values).execution_options(synchronize_session=False))
    session.commit()


def _failure_values(attempts: int, error: str, now: datetime, max_attempts: int) -> dict:
    if attempts >= max_attempts:
        return dict(state=NotificationState.failed.value, next_attempt_at=None, last_error=error[:ERROR_MAX])
    return dict(state=NotificationState.pending.value, next_attempt_at=now + backoff(attempts),
                last_error=error[:ERROR_MAX])


def _load(session: Session, ids: list[int]) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.id.in_(ids)).options(
        joinedload(Notification.user), joinedload(Notification.update).joinedload(ProblemUpdate.problem),
        joinedload(Notification.update).joinedload(ProblemUpdate.author),
    ).order_by(Notification.id)).unique())


def _subscription_lines(session: Session, rows: list[Notification]) -> dict[int, str]:
    ids = {row.subscription_id for row in rows if row.subscription_id}
    if not ids:
        return {}
    subs = session.scalars(select(Subscription).where(Subscription.id.in_(ids))
                           .options(joinedload(Subscription.problem)))
    return {sub.id: describe_subscription(sub) for sub in subs}


def deliver_due(session: Session, *, sender: mail.MailSender, max_attempts: int, now: datetime | None = None,
                update_id: int | None = None, batch_size: int = BATCH_SIZE,
                lease: timedelta = CLAIM_LEASE) -> DeliveryReport:
    """Send every due immediate email (of one update, or all), batch by batch, until none
    is left. `now` fixes the clock (tests); by default it is read per batch."""
    report = DeliveryReport()
    while True:
        clock = now or utcnow()
        ids = claim_due(session, now=clock, update_id=update_id, limit=batch_size, lease=lease)
        if not ids:
            return report
        report.add(_send_batch(session, ids, sender=sender, now=clock, max_attempts=max_attempts, lease=lease))


@dataclass
class _Outgoing:
    notification_id: int
    attempts: int
    message: EmailMessage | None = None
    error: str | None = None


def _prepare(row: Notification, lines: dict[int, str]) -> _Outgoing:
    outgoing = _Outgoing(row.id, row.attempts)
    if not row.user.email or row.user.is_child:  # children are never emailed
        outgoing.error = "no email address"
        return outgoing
    try:
        outgoing.message = mail.update_email(
            to=row.user.email, user_id=row.user_id, subscription_id=row.subscription_id, update=row.update,
            problem=row.update.problem, headline=describe_update(row.update, row.update.problem),
            subscription_line=lines.get(row.subscription_id))
        # The same Message-ID on every attempt: an email sent again after a worker died
        # between the server's "accepted" and our commit is the same message, and mailboxes
        # keep one (bench/drill.py kills a worker mid-batch and checks this).
        del outgoing.message["Message-ID"]
        outgoing.message["Message-ID"] = mail.notification_message_id(row.id)
    except Exception as exc:  # a broken template must not stop the batch; it is retried
        log.exception("could not build email notification %s", row.id)
        outgoing.error = f"{type(exc).__name__}: {exc}"
    return outgoing


def _send_batch(session: Session, ids: list[int], *, sender: mail.MailSender, now: datetime,
                max_attempts: int, lease: timedelta = CLAIM_LEASE) -> DeliveryReport:
    """Build the batch's messages, end the read transaction (no transaction stays open
    while the mail server takes its time), then send and record each one. A batch slower
    than its lease hands back what it has not sent before the lease lapses, since another
    worker may then take those rows (bench/drill.py saw the double sends otherwise)."""
    rows = _load(session, ids)
    lines = _subscription_lines(session, rows)
    batch = [_prepare(row, lines) for row in rows]
    session.commit()
    report = DeliveryReport()
    claimed = NotificationState.sending.value
    started, budget = time.monotonic(), lease.total_seconds() * 0.8
    for position, outgoing in enumerate(batch):
        if time.monotonic() - started > budget:
            for unsent in batch[position:]:  # still ours: back to pending, claimed again at once
                _finish(session, unsent.notification_id, claimed, state=NotificationState.pending.value,
                        next_attempt_at=None)
            break
        if outgoing.message is None and outgoing.error == "no email address":
            _finish(session, outgoing.notification_id, claimed, state=NotificationState.failed.value,
                    next_attempt_at=None, last_error=outgoing.error)
            report.failed += 1
            continue
        error = outgoing.error
        if error is None:
            try:
                sender.send(outgoing.message)
            except Exception as exc:  # refused, timed out, unreachable: all retried
                error = f"{type(exc).__name__}: {exc}"
        if error is None:
            _finish(session, outgoing.notification_id, claimed, state=NotificationState.sent.value,
                    sent_at=utcnow(), next_attempt_at=None)
            report.sent += 1
            continue
        log.warning("email notification %s failed (attempt %s): %s", outgoing.notification_id,
                    outgoing.attempts, error)
        values = _failure_values(outgoing.attempts, error, now, max_attempts)
        _finish(session, outgoing.notification_id, claimed, **values)
        if values["state"] == NotificationState.failed.value:
            report.failed += 1
        else:
            report.retrying += 1
            report.add(DeliveryReport(next_retry_at=values["next_attempt_at"]))
    return report


# --- the daily digest ----------------------------------------------------------------------

def digest_cutoff(now: datetime, *, hour: int, timezone: str) -> datetime:
    """The latest DIGEST_HOUR:00 (local time) at or before now: the scheduled digest
    covers what waited until then, so however often it runs that day it sends once."""
    local = now.astimezone(ZoneInfo(timezone))
    boundary = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if boundary > local:
        boundary -= timedelta(days=1)
    return boundary.astimezone(now.tzinfo)


def _waiting_digest(now: datetime, cutoff: datetime):
    n = Notification
    return and_(n.channel == Channel.email.value, or_(
        and_(n.state == NotificationState.digest.value, n.created_at <= cutoff),
        and_(n.state == NotificationState.digesting.value, n.next_attempt_at <= now),  # a lapsed claim
    ))


def send_digests(session: Session, *, sender: mail.MailSender, max_attempts: int, now: datetime | None = None,
                 cutoff: datetime | None = None) -> DeliveryReport:
    """Send each person one email with all their digest notifications created up to
    `cutoff` (default: now), then mark them sent. Each person's rows are claimed in one
    conditional UPDATE, so racing or repeated runs send each row once."""
    now = now or utcnow()
    cutoff = cutoff or now
    report = DeliveryReport()
    user_ids = list(session.scalars(select(Notification.user_id).where(_waiting_digest(now, cutoff))
                                    .distinct().order_by(Notification.user_id)))
    session.commit()
    for user_id in user_ids:
        report.add(_send_digest(session, user_id, sender=sender, now=now, cutoff=cutoff, max_attempts=max_attempts))
    return report


def _send_digest(session: Session, user_id: int, *, sender: mail.MailSender, now: datetime, cutoff: datetime,
                 max_attempts: int) -> DeliveryReport:
    n = Notification
    ids = list(session.scalars(
        update(n).where(n.user_id == user_id, _waiting_digest(now, cutoff))
        .values(state=NotificationState.digesting.value, attempts=n.attempts + 1,
                next_attempt_at=now + CLAIM_LEASE)
        .returning(n.id).execution_options(synchronize_session=False)))
    session.commit()
    if not ids:
        return DeliveryReport()
    rows = _load(session, ids)
    claimed = (n.id.in_(ids), n.state == NotificationState.digesting.value)
    user = rows[0].user
    try:
        if not user.email:
            raise ValueError("no email address")
        message = mail.digest_email(to=user.email, user_id=user_id, items=_digest_items(session, rows))
        session.commit()  # no transaction stays open while the mail server takes its time
        sender.send(message)
    except Exception as exc:
        log.warning("digest for user %s failed: %s", user_id, exc)
        attempts = max(row.attempts for row in rows)
        values = _failure_values(attempts, f"{type(exc).__name__}: {exc}", now, max_attempts)
        if values["state"] == NotificationState.pending.value:  # retried by the next digest run
            values.update(state=NotificationState.digest.value, next_attempt_at=None)
        session.execute(update(n).where(*claimed).values(**values).execution_options(synchronize_session=False))
        session.commit()
        failed = values["state"] == NotificationState.failed.value
        return DeliveryReport(failed=len(ids) if failed else 0, retrying=0 if failed else len(ids))
    session.execute(update(n).where(*claimed).values(
        state=NotificationState.sent.value, sent_at=utcnow(), next_attempt_at=None,
    ).execution_options(synchronize_session=False))
    session.commit()
    return DeliveryReport(sent=1)


def _digest_items(session: Session, rows: list[Notification]) -> list[mail.DigestItem]:
    """Grouped by problem (first-waiting problem first), oldest update first within one."""
    lines = _subscription_lines(session, rows)
    by_problem: dict[int, list[Notification]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.update.created_at, r.id)):
        by_problem[row.update.problem_id].append(row)
    items = []
    for group in by_problem.values():
        for row in group:
            problem = row.update.problem
            unsubscribe = (mail.unsubscribe_url(user_id=row.user_id, subscription_id=row.subscription_id)
                           if row.subscription_id in lines else None)
            items.append(mail.DigestItem(
                headline=describe_update(row.update, problem), update=row.update, problem=problem,
                problem_url=mail.absolute_url("challenges.problem", problem_id=problem.id),
                unsubscribe_url=unsubscribe))
    return items
