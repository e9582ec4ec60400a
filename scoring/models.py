from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from timeutil import UTCDateTime, utcnow


class LedgerEntry(db.Model):
    """One append-only movement of points.

    A row credits its user (participant boards) and, when team_id is set, its team (team
    boards). Rows are never updated or deleted; the unique idempotency key makes each award
    happen once however many requests race to make it.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("user_id IS NOT NULL OR team_id IS NOT NULL", name="has_beneficiary"),
        Index("ix_ledger_entries_created_at", "created_at"),
        Index("ix_ledger_entries_user_created", "user_id", "created_at"),
        Index("ix_ledger_entries_team_created", "team_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    # award (an approved claim), review (a completed review), badge, bonus, rescore
    # (dynamic value fell), reversal (a compensating entry naming the one it undoes).
    kind: Mapped[str] = mapped_column(String(20), default="award", server_default="award")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BadgeAward(db.Model):
    """A badge someone earned; each badge is earned once."""

    __tablename__ = "badge_awards"
    __table_args__ = (UniqueConstraint("user_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code: Mapped[str] = mapped_column(String(60))
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Season(db.Model):
    """A named date range for leaderboards, e.g. a school term (dates in the site's zone)."""

    __tablename__ = "seasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
