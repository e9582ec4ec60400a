"""Who hears about an update, and the in-app side of notifications.

`publish` is what the rest of the app calls: it writes an outbox row in the caller's
transaction and queues the update id on the session; after the commit the id is handed to
the job queue (notifications/dispatch.py), never delivered inline. `fan_out` is the job's
work: one set-based INSERT ... SELECT of every recipient's notifications. Email delivery
lives in notifications/delivery.py.

Like the other services these take the session explicitly, raise DomainError subclasses
and flush; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, case, delete, func, literal, null, or_, select, true, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

import aftercommit
from accounts.models import User
from challenges.geo import EARTH_RADIUS_M, haversine_m
from challenges.models import Delivery, Problem, ProblemUpdate, Subscription, SubscriptionKind
from errors import NotFound, ValidationFailed
from childsafe.notify import delivered_in_app, email_recipient_condition, hold_quiet_in_app
from notifications import live_inbox
from moderation.visibility import public_updates
from notifications.models import Channel, Notification, NotificationFanout, NotificationState
from timeutil import UTCDateTime, utcnow

PENDING_KEY = "fixquest.notifications_pending"

# A great-circle distance is at least the north-south distance, R * |dlat| (radians); this
# many metres per degree of latitude (a hair under the true 111,195) makes a cheap SQL
# filter that never drops a subscription the haversine check would keep.
METRES_PER_DEGREE_LAT = 2 * 3.141592653589793 * EARTH_RADIUS_M / 360 - 5

# Who gets what: the strongest delivery wins when one person follows an update several ways.
_DELIVERY_RANK = {Delivery.immediate.value: 0, Delivery.digest.value: 1, Delivery.in_app.value: 2}
# ... and among equals, the most specific subscription is the one the email names.
_KIND_RANK = {SubscriptionKind.problem.value: 0, SubscriptionKind.category.value: 1,
              SubscriptionKind.area.value: 2}


class SubscriptionNotFound(NotFound):
    def __init__(self, subscription_id: int):
        super().__init__("subscription", subscription_id)
        self.subscription_id = subscription_id


class NotificationNotFound(NotFound):
    def __init__(self, notification_id: int):
        super().__init__("notification", notification_id)
        self.notification_id = notification_id


class BadDelivery(ValidationFailed):
    def __init__(self, delivery: str):
        super().__init__({"delivery": ["Choose email at once, a daily digest, or in-app only."]})
        self.delivery = delivery


# --- publishing ----------------------------------------------------------------------------

def publish(session: Session, update: ProblemUpdate) -> None:
    """Announce a new update. Cheap and non-blocking: an outbox row joins the caller's
    transaction and the id is queued on the session; after the commit the id goes to the
    job queue (a rollback discards both). Calling it twice for one update is harmless."""
    if update.id is None:
        session.flush()
    problem = session.get(Problem, update.problem_id)
    if update.visibility != "public" or (problem is not None and problem.visibility != "public"):
        return  # hidden or held (moderation/): released posts are published then
    if aftercommit.queue(session, PENDING_KEY, update.id):
        session.add(NotificationFanout(update_id=update.id, created_at=utcnow()))


# --- fan-out -------------------------------------------------------------------------------

@dataclass(frozen=True)
class FanOut:
    update_id: int
    claimed: bool          # False: another run already fanned this update out
    created: int = 0       # notification rows inserted by this run
    emails_pending: int = 0


def _insert(session: Session, model):
    """A Core INSERT on the model's table (Core, so rowcount counts the rows inserted)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model.__table__)
    if dialect == "sqlite":
        return sqlite.insert(model.__table__)
    raise NotImplementedError(dialect)  # pragma: no cover - other databases are not supported


def _claim_fanout(session: Session, update_id: int, now: datetime) -> bool:
    """Mark the update's outbox row done, in the transaction that will insert its
    notifications. Of two racing runs the second waits for the first's row lock and then
    matches nothing; an update that was never published has no row and is not fanned out."""
    return bool(session.execute(update(NotificationFanout).where(
        NotificationFanout.update_id == update_id, NotificationFanout.done_at.is_(None),
    ).values(done_at=now).execution_options(synchronize_session=False)).rowcount)


def circle_subscription_ids(session: Session, lat: float, lon: float) -> list[int]:
    """Area subscriptions whose circle contains the point: a latitude-band filter in SQL,
    then the exact haversine distance."""
    rows = session.execute(select(
        Subscription.id, Subscription.centre_lat, Subscription.centre_lon, Subscription.radius_m,
    ).where(
        Subscription.kind == SubscriptionKind.area.value, Subscription.radius_m.is_not(None),
        Subscription.centre_lat.is_not(None), Subscription.centre_lon.is_not(None),
        func.abs(Subscription.centre_lat - lat) * METRES_PER_DEGREE_LAT <= Subscription.radius_m,
    ))
    return [row.id for row in rows if haversine_m(row.centre_lat, row.centre_lon, lat, lon) <= row.radius_m]


def _bbox_contains(lat: float, lon: float):
    """Area subscriptions with a bounding box around the point; a box whose min_lon is
    east of its max_lon crosses the antimeridian."""
    s = Subscription
    return and_(
        s.kind == SubscriptionKind.area.value, s.min_lat.is_not(None), s.max_lat.is_not(None),
        s.min_lon.is_not(None), s.max_lon.is_not(None), s.min_lat <= lat, s.max_lat >= lat,
        or_(and_(s.min_lon <= s.max_lon, s.min_lon <= lon, s.max_lon >= lon),
            and_(s.min_lon > s.max_lon, or_(s.min_lon <= lon, s.max_lon >= lon))),
    )


def recipients_select(session: Session, entry: ProblemUpdate, problem: Problem) -> Select:
    """One row per person to tell (subscription_id, user_id, rank), where rank 0 means email
    at once, 1 a digest email and 2 in-app only. Problem subscribers always; for a new
    report also area and category subscribers. Never the update's own author."""
    s = Subscription
    matches = [and_(s.kind == SubscriptionKind.problem.value, s.problem_id == problem.id)]
    if entry.kind == "reported":
        matches.append(and_(s.kind == SubscriptionKind.category.value, s.category == problem.category))
        matches.append(_bbox_contains(problem.lat, problem.lon))
        circle_ids = circle_subscription_ids(session, problem.lat, problem.lon)
        if circle_ids:
            matches.append(s.id.in_(circle_ids))
    rank = case(_DELIVERY_RANK, value=s.delivery, else_=2)
    kind_rank = case(_KIND_RANK, value=s.kind, else_=3)
    matched = select(
        s.id.label("subscription_id"), s.user_id.label("user_id"), rank.label("rank"),
        func.row_number().over(partition_by=s.user_id, order_by=(rank, kind_rank, s.id)).label("rn"),
    ).where(or_(*matches), s.user_id != entry.author_id).subquery("matched")
    return select(matched.c.subscription_id, matched.c.user_id, matched.c.rank).where(matched.c.rn == 1)


def fan_out(session: Session, *, update_id: int, now: datetime | None = None) -> FanOut:
    """Create every notification of an update in one INSERT ... SELECT ... ON CONFLICT DO
    NOTHING: in-app rows for everyone (readable at once, so already sent), email rows for
    immediate (pending) and digest (digest) subscribers. Runs once per update (the outbox
    claim), and even a forced re-run could create nothing twice (the unique constraint)."""
    now = now or utcnow()
    entry = session.get(ProblemUpdate, update_id)
    problem = session.get(Problem, entry.problem_id) if entry is not None else None
    if problem is None or not _claim_fanout(session, update_id, now):
        return FanOut(update_id, claimed=False)  # rolled back in a savepoint, or done already
    # A derived table, not a CTE: Python's sqlite3 reports no rowcount for "WITH ... INSERT".
    chosen = recipients_select(session, entry, problem).subquery("chosen")
    stamp = literal(now, UTCDateTime())
    in_app = select(
        literal(update_id), chosen.c.user_id, chosen.c.subscription_id, literal(Channel.in_app.value),
        literal(NotificationState.sent.value), literal(0), stamp, stamp,
    ).where(true())
    email = select(
        literal(update_id), chosen.c.user_id, chosen.c.subscription_id, literal(Channel.email.value),
        case((chosen.c.rank == 0, NotificationState.pending.value), else_=NotificationState.digest.value),
        literal(0), stamp, null(),
    ).where(chosen.c.rank < 2, email_recipient_condition(chosen.c.user_id),  # never email a child
            chosen.c.user_id.in_(select(User.id).where(User.email.is_not(None))))  # no address, no mail
    columns = ["update_id", "user_id", "subscription_id", "channel", "state", "attempts", "created_at", "sent_at"]
    stmt = _insert(session, Notification).from_select(columns, union_all(in_app, email))
    created = session.execute(stmt.on_conflict_do_nothing(index_elements=["update_id", "user_id", "channel"])
                              .execution_options(preserve_rowcount=True)).rowcount
    hold_quiet_in_app(session, update_id=update_id, now=now)  # children: nothing outside school hours
    if created:
        live_inbox.announce_update(session, update_id)  # the unread counts, live, after the commit
    session.flush()
    emails = session.scalar(select(func.count()).select_from(Notification).where(
        Notification.update_id == update_id, Notification.channel == Channel.email.value,
        Notification.state == NotificationState.pending.value))
    return FanOut(update_id, claimed=True, created=max(created, 0), emails_pending=emails or 0)


def unfanned_update_ids(session: Session, *, limit: int = 1000) -> list[int]:
    """Updates published but not yet fanned out: their job was lost or has not run yet."""
    return list(session.scalars(select(NotificationFanout.update_id).where(
        NotificationFanout.done_at.is_(None)).order_by(NotificationFanout.update_id).limit(limit)))


# --- in-app notifications ------------------------------------------------------------------

def inbox_select(user_id: int, *, unread_only: bool = False) -> Select:
    """A person's in-app notifications (only the unread ones if asked), newest first, with
    their update, problem and author loaded in the same query (for db.paginate)."""
    unread = (Notification.read_at.is_(None),) if unread_only else ()
    return (select(Notification)
            .where(Notification.user_id == user_id, Notification.channel == Channel.in_app.value,
                   delivered_in_app(), *unread,
                   Notification.update_id.in_(select(ProblemUpdate.id).where(public_updates())))
            .options(joinedload(Notification.update).joinedload(ProblemUpdate.problem),
                     joinedload(Notification.update).joinedload(ProblemUpdate.author))
            .order_by(Notification.id.desc()))


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.channel == Channel.in_app.value,
        Notification.read_at.is_(None), delivered_in_app(),
        Notification.update_id.in_(select(ProblemUpdate.id).where(public_updates())))) or 0


def mark_read(session: Session, *, actor: User, notification_id: int, now: datetime | None = None) -> None:
    owned = session.scalar(select(Notification.id).where(
        Notification.id == notification_id, Notification.user_id == actor.id,
        Notification.channel == Channel.in_app.value))
    if owned is None:
        raise NotificationNotFound(notification_id)
    session.execute(update(Notification).where(Notification.id == notification_id, Notification.read_at.is_(None))
                    .values(read_at=now or utcnow()).execution_options(synchronize_session=False))
    live_inbox.announce(session, [actor.id])
    session.flush()


def mark_all_read(session: Session, *, actor: User, now: datetime | None = None) -> int:
    changed = session.execute(update(Notification).where(
        Notification.user_id == actor.id, Notification.channel == Channel.in_app.value,
        Notification.read_at.is_(None),
    ).values(read_at=now or utcnow()).execution_options(synchronize_session=False)).rowcount
    if changed:
        live_inbox.announce(session, [actor.id])
    session.flush()
    return changed


# --- subscriptions: delivery choice and unsubscribing -----------------------------------------

def subscriptions_of(session: Session, user_id: int) -> list[Subscription]:
    return list(session.scalars(select(Subscription).where(Subscription.user_id == user_id)
                                .options(joinedload(Subscription.problem))
                                .order_by(Subscription.kind, Subscription.id)))


def own_subscription(session: Session, *, actor: User, subscription_id: int) -> Subscription:
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or subscription.user_id != actor.id:
        raise SubscriptionNotFound(subscription_id)
    return subscription


def set_delivery(session: Session, *, actor: User, subscription_id: int, delivery: str) -> Subscription:
    """Change how one subscription is delivered. Notifications already created keep the
    channel they were made for."""
    if delivery not in _DELIVERY_RANK:
        raise BadDelivery(delivery)
    subscription = own_subscription(session, actor=actor, subscription_id=subscription_id)
    subscription.delivery = delivery
    session.flush()
    return subscription


def _cancel_unsent_email(session: Session, where) -> int:
    return session.execute(update(Notification).where(
        where, Notification.channel == Channel.email.value,
        Notification.state.in_((NotificationState.pending.value, NotificationState.digest.value)),
    ).values(state=NotificationState.cancelled.value, next_attempt_at=None)
        .execution_options(synchronize_session=False)).rowcount


def remove_subscription(session: Session, *, subscription_id: int, user_id: int) -> bool:
    """Delete a subscription of `user_id`; True if this call removed it (False: already
    gone). Emails it earned that have not gone out yet are cancelled, and a problem's
    subscribers_count drops in the same transaction, only if the row was really deleted,
    so two racing unsubscribes count once."""
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or subscription.user_id != user_id:
        return False
    kind, problem_id = subscription.kind, subscription.problem_id
    # Before the DELETE: on PostgreSQL it sets subscription_id NULL itself (ON DELETE SET NULL).
    _cancel_unsent_email(session, Notification.subscription_id == subscription_id)
    session.execute(update(Notification).where(Notification.subscription_id == subscription_id)
                    .values(subscription_id=None).execution_options(synchronize_session=False))
    removed = session.execute(delete(Subscription).where(
        Subscription.id == subscription_id, Subscription.user_id == user_id,
    ).execution_options(synchronize_session=False)).rowcount
    session.expunge(subscription)
    if not removed:
        return False  # a racing request removed it (and counted it) first
    if kind == SubscriptionKind.problem.value and problem_id is not None:
        session.execute(update(Problem).where(Problem.id == problem_id)
                        .values(subscribers_count=Problem.subscribers_count - 1)
                        .execution_options(synchronize_session=False))
    session.flush()
    return True


def unsubscribe(session: Session, *, actor: User, subscription_id: int) -> None:
    """Stop one of your own subscriptions (the settings page)."""
    own_subscription(session, actor=actor, subscription_id=subscription_id)
    remove_subscription(session, subscription_id=subscription_id, user_id=actor.id)


def stop_digest(session: Session, *, user_id: int) -> int:
    """Turn every digest subscription of a person into in-app only and cancel the digest
    email still waiting (the one-click unsubscribe of a digest email)."""
    changed = session.execute(update(Subscription).where(
        Subscription.user_id == user_id, Subscription.delivery == Delivery.digest.value,
    ).values(delivery=Delivery.in_app.value).execution_options(synchronize_session=False)).rowcount
    session.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.channel == Channel.email.value,
        Notification.state == NotificationState.digest.value,
    ).values(state=NotificationState.cancelled.value).execution_options(synchronize_session=False))
    session.flush()
    return changed


def describe_subscription(subscription: Subscription) -> str:
    """A person-readable line for the settings page and emails."""
    if subscription.kind == SubscriptionKind.problem.value:
        title = subscription.problem.title if subscription.problem else f"problem #{subscription.problem_id}"
        return f"Updates to “{title}”"
    if subscription.kind == SubscriptionKind.category.value:
        return f"New {subscription.category} reports anywhere"
    if subscription.radius_m is not None:
        return (f"New reports within {subscription.radius_m:,.0f} m of "
                f"{subscription.centre_lat:.4f}, {subscription.centre_lon:.4f}")
    return (f"New reports between {subscription.min_lat:.4f}, {subscription.min_lon:.4f} and "
            f"{subscription.max_lat:.4f}, {subscription.max_lon:.4f}")


def describe_update(entry: ProblemUpdate, problem: Problem) -> str:
    """What changed, as a short phrase that also serves as an email subject."""
    title = " ".join(problem.title.split())
    if entry.kind == "reported":
        return f"New problem reported: {title}"
    if entry.kind == "status" and entry.new_status:
        return f"{title} is now {entry.new_status.replace('_', ' ')}"
    if entry.kind == "comment":
        return f"New update on {title}"
    if entry.kind == "merged":
        return f"A duplicate was merged into {title}"
    if entry.kind == "fix":
        return f"{title} has a fix story"
    if entry.kind in ("confirmed", "confirmation"):
        return f"Someone else sees {title} too"
    return f"{title} was updated"

