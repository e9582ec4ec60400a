"""Webhook tables: the registrations, the events each wants, every delivery and every
attempt at it (the delivery log)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from extensions import db
from timeutil import UTCDateTime, utcnow


class DeliveryState(str, enum.Enum):
    pending = "pending"        # waiting for its (next) attempt at next_attempt_at
    sending = "sending"        # claimed by a worker; next_attempt_at is when the claim lapses
    delivered = "delivered"    # the receiver answered 2xx
    failed = "failed"          # gave up: still failing when the retry window closed


class Webhook(db.Model):
    """A URL an organiser (or admin) registered to be told about events.

    No secret is stored: the signing secret is derived from the server's signing key,
    the webhook's id and `secret_salt` (webhooks.services.secret_for), so a copy of the
    database alone cannot forge deliveries. Rotating the secret is a new salt."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(80))
    secret_salt: Mapped[str] = mapped_column(String(32))
    # Only an admin sets this: it lets the URL resolve to loopback, private or link-local addresses.
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Deliveries that gave up in a row (reset by any 2xx); at WEBHOOK_DISABLE_AFTER it is disabled.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User] = relationship()
    events: Mapped[list[WebhookEvent]] = relationship(order_by="WebhookEvent.event", cascade="all, delete-orphan")

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None

    @property
    def event_names(self) -> list[str]:
        return [row.event for row in self.events]


class WebhookEvent(db.Model):
    """One event a webhook wants. Indexed by event, so `emit` finds the subscribers of an
    event in one index lookup (and costs one empty lookup when nobody subscribed)."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_event", "event", "webhook_id"),)

    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"), primary_key=True)
    event: Mapped[str] = mapped_column(String(40), primary_key=True)


class WebhookDelivery(db.Model):
    """One event for one webhook: the exact JSON body (the same bytes on every retry; only
    the signature's timestamp changes), its state and its retry schedule."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_state_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(32))  # the same for every webhook told of one event
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default=DeliveryState.pending.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    webhook: Mapped[Webhook] = relationship()
    log: Mapped[list[WebhookAttempt]] = relationship(order_by="WebhookAttempt.id", viewonly=True)


class WebhookAttempt(db.Model):
    """The log: one row per HTTP attempt, with the answer's status code or the error."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
