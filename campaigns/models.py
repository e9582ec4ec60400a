"""Campaigns, their milestones, community pledges, fix stories and volunteer hours."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from extensions import db
from timeutil import UTCDateTime, utcnow


class CampaignStatus(str, enum.Enum):
    proposed = "proposed"  # put forward; not (or no longer) in a vote, or chosen and waiting to launch
    voting = "voting"      # the community pledges tokens to it until voting_closes_at
    active = "active"      # counting fixes between starts_at and ends_at
    finished = "finished"  # its window has closed


MILESTONES = (25, 50, 75, 100)


class Campaign(db.Model):
    """A collective goal: `goal` problems fixed inside an area (a box or a circle), in some
    categories (none listed: all), between starts_at and ends_at."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("goal >= 1", name="goal_positive"),
        CheckConstraint("area_kind IN ('bbox', 'circle')", name="area_kind"),
        Index("ix_campaigns_status_ends_at", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    why: Mapped[str] = mapped_column(Text)
    area_kind: Mapped[str] = mapped_column(String(10))
    min_lat: Mapped[float | None] = mapped_column(Float)
    min_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    centre_lat: Mapped[float | None] = mapped_column(Float)
    centre_lon: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[float | None] = mapped_column(Float)
    # Comma-separated category names; empty means every category.
    categories: Mapped[str] = mapped_column(String(500), default="", server_default="")
    goal: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default=CampaignStatus.proposed.value)
    voting_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    chosen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organiser: Mapped[User] = relationship()

    @property
    def category_list(self) -> list[str]:
        return [name for name in self.categories.split(",") if name]


class CampaignMilestone(db.Model):
    """A milestone (25, 50, 75 or 100 percent) a campaign reached, once, with the approved
    claim that crossed it."""

    __tablename__ = "campaign_milestones"
    __table_args__ = (UniqueConstraint("campaign_id", "percent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    percent: Mapped[int] = mapped_column(Integer)
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))


class Pledge(db.Model):
    """Tokens a participant pledged to a campaign in a vote. Spent tokens are derived by
    summing these rows; there is no counter."""

    __tablename__ = "campaign_pledges"
    __table_args__ = (CheckConstraint("tokens >= 1", name="tokens_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    tokens: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FixStory(db.Model):
    """A short story of how a problem was fixed, with a before and an after photo. It is
    also a public update (kind "fix") in the problem's history; the photos belong to it."""

    __tablename__ = "fix_stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), unique=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("problem_updates.id"), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    story: Mapped[str] = mapped_column(Text)
    before_photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id"))
    after_photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()
    before_photo = relationship("Photo", foreign_keys=[before_photo_id])
    after_photo = relationship("Photo", foreign_keys=[after_photo_id])


class ClaimHours(db.Model):
    """Volunteer hours logged with a claim's evidence (optional; one figure per claim)."""

    __tablename__ = "claim_hours"
    __table_args__ = (CheckConstraint("hours > 0 AND hours <= 1000", name="hours_range"),)

    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), primary_key=True)
    hours: Mapped[float] = mapped_column(Float)
