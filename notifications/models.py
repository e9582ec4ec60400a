"""Delivering problem updates to subscribers: in-app and email, each exactly once."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from challenges.models import ProblemUpdate
from extensions import db
from timeutil import UTCDateTime, utcnow


class Channel(str, enum.Enum):
    in_app = "in_app"
    email = "email"


class NotificationState(str, enum.Enum):
    pending = "pending"      # waiting for (another) delivery attempt
    sending = "sending"      # claimed by a worker; next_attempt_at is when the claim lapses
    sent = "sent"            # delivered; never sent again
    digest = "digest"        # waiting for the subscriber's daily digest
    digesting = "digesting"  # claimed by a digest run; next_attempt_at is when the claim lapses
    failed = "failed"        # gave up after the last retry
    cancelled = "cancelled"  # the subscriber unsubscribed before it went out
    held = "held"            # in-app, to a child in quiet hours: shown from next_attempt_at (childsafe.notify)


class Notification(db.Model):
    """One delivery of one update to one subscriber on one channel. The unique constraint
    makes fan-out idempotent; `state` moving pending -> sending -> sent in conditional
    UPDATEs makes a retried or duplicated job send nothing twice."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("update_id", "user_id", "channel"),
        Index("ix_notifications_user_read", "user_id", "channel", "read_at"),
        Index("ix_notifications_state_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("problem_updates.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The subscription that earned this delivery (the unsubscribe link names it). NULL once
    # that subscription is gone.
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10), default=NotificationState.pending.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    update: Mapped[ProblemUpdate] = relationship()
    user: Mapped[User] = relationship()


class NotificationFanout(db.Model):
    """The outbox: one row per published update, written in the same transaction as the
    update. `done_at` is set in the transaction that creates the update's notifications,
    so an update is fanned out exactly once, and one whose job was lost (Redis down, a
    crash) is found again by `flask notifications deliver`."""

    __tablename__ = "notification_fanouts"

    update_id: Mapped[int] = mapped_column(ForeignKey("problem_updates.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
