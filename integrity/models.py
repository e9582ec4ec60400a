"""Integrity alerts: an unusual burst of approvals between the same people, for organisers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from timeutil import UTCDateTime, utcnow


class IntegrityAlert(db.Model):
    """One burst: `kind` "pair" (one reviewer approving one claimant) or "teams" (members of
    two teams approving each other's members). Open until an organiser marks it reviewed."""

    __tablename__ = "integrity_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(60), index=True)  # "pair:<reviewer>:<claimant>", "teams:<a>:<b>"
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team_a_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    team_b_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    approvals: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    reviewer = relationship("User", foreign_keys=[reviewer_id])
    claimant = relationship("User", foreign_keys=[claimant_id])
    team_a = relationship("Team", foreign_keys=[team_a_id])
    team_b = relationship("Team", foreign_keys=[team_b_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    claims: Mapped[list[IntegrityAlertClaim]] = relationship(order_by="IntegrityAlertClaim.claim_id",
                                                             cascade="all, delete-orphan")


class IntegrityAlertClaim(db.Model):
    __tablename__ = "integrity_alert_claims"
    __table_args__ = (UniqueConstraint("alert_id", "claim_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("integrity_alerts.id"), index=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)

    claim = relationship("Claim")
