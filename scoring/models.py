from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
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
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
