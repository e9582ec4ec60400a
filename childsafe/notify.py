"""Notifications to children: never by email, and in-app only within school hours.

fan_out (notifications/services.py) creates no email rows for children
(`email_recipient_condition`) and, during quiet hours, stores a child's in-app rows as
`held` until the quiet hours end (`hold_quiet_in_app`). A held row is not in the inbox or
the unread count until its time comes (`delivered_in_app`), so nothing reaches a child in
the evening or at the weekend; `release_due` marks due rows sent (the deliver command and
worker run it). Anything that pushes to a child (a live stream, a future push channel)
asks `may_notify_now` first.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from childsafe import quiet
from childsafe.policy import children_select
from timeutil import utcnow

HELD = "held"  # NotificationState.held


def quiet_hours() -> quiet.QuietHours:
    return quiet.from_config(current_app.config if has_app_context() else {})


def email_recipient_condition(user_id_column):
    """Children get no email at all (they have no address of their own)."""
    return user_id_column.not_in(children_select())


def hold_quiet_in_app(session: Session, *, update_id: int, now: datetime,
                      hours: quiet.QuietHours | None = None) -> int:
    """During quiet hours, hold this update's in-app notifications to children until the
    quiet hours end. Returns the rows held."""
    from notifications.models import Channel, Notification

    hours = hours or quiet_hours()
    if not hours.is_quiet(now):
        return 0
    return session.execute(update(Notification).where(
        Notification.update_id == update_id, Notification.channel == Channel.in_app.value,
        Notification.user_id.in_(children_select()),
    ).values(state=HELD, sent_at=None, next_attempt_at=hours.ends_after(now))
        .execution_options(synchronize_session=False)).rowcount


def delivered_in_app(now: datetime | None = None):
    """In-app rows a person may see: all but the held ones whose time has not come."""
    from notifications.models import Notification

    return or_(Notification.state != HELD, Notification.next_attempt_at <= (now or utcnow()))


def release_due(session: Session, *, now: datetime | None = None) -> int:
    """Held in-app rows whose quiet hours are over become sent."""
    from notifications.models import Notification

    now = now or utcnow()
    return session.execute(update(Notification).where(
        Notification.state == HELD, Notification.next_attempt_at <= now,
    ).values(state="sent", sent_at=Notification.next_attempt_at).execution_options(synchronize_session=False)).rowcount


def may_notify_now(user, now: datetime | None = None, hours: quiet.QuietHours | None = None) -> bool:
    """Whether anything may be pushed to this person now (adults: always)."""
    if not getattr(user, "is_child", False):
        return True
    return not (hours or quiet_hours()).is_quiet(now or utcnow())

