"""A child's submitted evidence waiting for a teacher before it leaves the class."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from challenges.models import Claim
from extensions import db
from timeutil import UTCDateTime, utcnow


class HoldState(str, enum.Enum):
    pending = "pending"    # only the child, their class and their teachers see the evidence
    approved = "approved"  # a teacher released it to the claim's reviewers
    rejected = "rejected"  # a teacher sent it back: the claim is the child's to redo


class ModerationHold(db.Model):
    """One per claim submitted by (or for) a child: covers the evidence text and the
    photos submitted with it. Re-submitting after a rejection puts it back to pending."""

    __tablename__ = "moderation_holds"
    __table_args__ = (Index("ix_moderation_holds_state_created", "state", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), unique=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(10), default=HoldState.pending.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    claim: Mapped[Claim] = relationship()
    child: Mapped[User] = relationship(foreign_keys=[child_id])
