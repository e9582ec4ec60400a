from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import Team, User
from extensions import db
from timeutil import UTCDateTime, utcnow


class ProblemStatus(str, enum.Enum):
    open = "open"
    confirmed = "confirmed"
    in_progress = "in_progress"
    fixed = "fixed"
    closed = "closed"


class Difficulty(str, enum.Enum):
    easy = "easy"
    medium = "medium"
    hard = "hard"


class ReviewMode(str, enum.Enum):
    organiser = "organiser"  # one organiser decides
    peer = "peer"            # N independent peer reviews (organisers can always decide)


class QuestStatus(str, enum.Enum):
    published = "published"  # open to claims
    proposed = "proposed"    # suggested by an experienced participant, waiting for an organiser


class QuestMode(str, enum.Enum):
    solo = "solo"
    team = "team"


class ClaimStatus(str, enum.Enum):
    taken = "taken"
    submitted = "submitted"
    approved = "approved"
    rejected = "rejected"
    reversed = "reversed"  # approved, then found fraudulent: its points were reversed


# A person or team holds at most one claim on a quest that is still live (taken or
# submitted) or already approved: the database enforces it, so two racing requests
# cannot both claim.
LIVE_CLAIM_STATES = ("taken", "submitted", "approved")


# Problems in these states are resolved: they are not offered as duplicates.
RESOLVED_STATES = ("fixed", "closed")


class Problem(db.Model):
    __tablename__ = "problems"
    __table_args__ = (
        CheckConstraint("lat >= -90 AND lat <= 90", name="lat_range"),
        CheckConstraint("lon >= -180 AND lon <= 180", name="lon_range"),
        CheckConstraint("merged_into_id IS NULL OR merged_into_id <> id", name="not_merged_into_itself"),
        Index("ix_problems_status_created", "status", "created_at"),
        Index("ix_problems_category_created", "category", "created_at"),
        Index("ix_problems_cell", "cell"),
        Index("ix_problems_category_cell", "category", "cell"),
        # Partial: almost no problem is merged, and a full index on the column tempts SQLite
        # to read lists through it (and sort in memory) for "merged_into_id IS NULL".
        Index("ix_problems_merged_into_id", "merged_into_id",
              sqlite_where=db.text("merged_into_id IS NOT NULL"),
              postgresql_where=db.text("merged_into_id IS NOT NULL")),
        # The lists' rows (never merged), newest first: the problem list's page and its
        # count read this smaller index (an index-only count on PostgreSQL).
        Index("ix_problems_unmerged_newest", "created_at", "id",
              sqlite_where=db.text("merged_into_id IS NULL"),
              postgresql_where=db.text("merged_into_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=ProblemStatus.open.value)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(200))
    # Grid cell of (lat, lon) for nearby lookups: see challenges/geo.py.
    cell: Mapped[int] = mapped_column(BigInteger)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("problems.id"))
    # Kept by the services in the same transaction as the rows they count (atomic
    # UPDATE ... SET n = n + 1), so lists can sort by "most affected" without a join.
    confirmations_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    subscribers_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # "public", "hidden" (by a moderator) or "held" (by the word list): see moderation/.
    visibility: Mapped[str] = mapped_column(String(10), default="public", server_default="public")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    reporter: Mapped[User] = relationship()
    updates: Mapped[list[ProblemUpdate]] = relationship(
        back_populates="problem", order_by="ProblemUpdate.id"
    )


class ProblemUpdate(db.Model):
    """A dated, public entry in a problem's history. Each is delivered once to each
    subscriber on each channel (see notifications/)."""

    __tablename__ = "problem_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))  # reported, status, comment, merged, fix
    old_status: Mapped[str | None] = mapped_column(String(20))
    new_status: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # "public", "hidden" (by a moderator) or "held" (by the word list): see moderation/.
    visibility: Mapped[str] = mapped_column(String(10), default="public", server_default="public")

    problem: Mapped[Problem] = relationship(back_populates="updates")
    author: Mapped[User] = relationship()


class Quest(db.Model):
    __tablename__ = "quests"
    __table_args__ = (
        CheckConstraint("points >= 1 AND points <= 1000", name="points_range"),
        CheckConstraint("ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="window_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problems.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    brief: Mapped[str] = mapped_column(Text)
    points: Mapped[int] = mapped_column(Integer)
    difficulty: Mapped[str] = mapped_column(String(10), default=Difficulty.easy.value)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    mode: Mapped[str] = mapped_column(String(10), default=QuestMode.solo.value)
    evidence_wanted: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default=QuestStatus.published.value,
                                        server_default=QuestStatus.published.value, index=True)
    review_mode: Mapped[str] = mapped_column(String(10), default=ReviewMode.organiser.value,
                                             server_default=ReviewMode.organiser.value)
    peer_reviews_needed: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    # Dynamic value (event quests, see scoring/rules.py): the value falls from `points`
    # towards dynamic_min_points as more teams solve it; None means a fixed value.
    dynamic_min_points: Mapped[int | None] = mapped_column(Integer)
    dynamic_decay: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    problem: Mapped[Problem | None] = relationship()
    created_by: Mapped[User] = relationship()


class Claim(db.Model):
    __tablename__ = "claims"
    __table_args__ = (
        # One live claim per person (solo) and per team on a quest: a partial unique index
        # works on both SQLite and PostgreSQL.
        Index("uq_claims_live_solo", "quest_id", "user_id", unique=True,
              sqlite_where=db.text("team_id IS NULL AND status IN ('taken','submitted','approved')"),
              postgresql_where=db.text("team_id IS NULL AND status IN ('taken','submitted','approved')")),
        Index("uq_claims_live_team", "quest_id", "team_id", unique=True,
              sqlite_where=db.text("team_id IS NOT NULL AND status IN ('taken','submitted','approved')"),
              postgresql_where=db.text("team_id IS NOT NULL AND status IN ('taken','submitted','approved')")),
        Index("ix_claims_status_submitted", "status", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quest_id: Mapped[int] = mapped_column(ForeignKey("quests.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ClaimStatus.taken.value)
    evidence: Mapped[str | None] = mapped_column(Text)
    # The evidence's (text and photos) "public", "hidden" or "held": see moderation/.
    evidence_visibility: Mapped[str] = mapped_column(String(10), default="public", server_default="public")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why an approved claim paid nothing (its problem's fix cycle already paid; see integrity/).
    unpaid_reason: Mapped[str | None] = mapped_column(String(300))

    quest: Mapped[Quest] = relationship()
    user: Mapped[User] = relationship()
    team: Mapped[Team | None] = relationship()
    reviews: Mapped[list[Review]] = relationship(back_populates="claim", order_by="Review.id")


class ClaimMember(db.Model):
    """A team member who took part in a team claim: credited when it is approved."""

    __tablename__ = "claim_members"
    __table_args__ = (UniqueConstraint("claim_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)


class Review(db.Model):
    """One reviewer's decision on a claim. Each reviewer decides a claim once."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("claim_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    decision: Mapped[str] = mapped_column(String(10))  # approve, reject
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claim: Mapped[Claim] = relationship(back_populates="reviews")
    reviewer: Mapped[User] = relationship()


class Confirmation(db.Model):
    """'I see this too': one person attached to a problem instead of a duplicate report."""

    __tablename__ = "confirmations"
    __table_args__ = (UniqueConstraint("problem_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubscriptionKind(str, enum.Enum):
    problem = "problem"
    area = "area"
    category = "category"


class Delivery(str, enum.Enum):
    immediate = "immediate"
    digest = "digest"
    in_app = "in_app"


class Subscription(db.Model):
    """A standing wish to hear about changes: to one problem, an area (a circle or a
    bounding box) or a category. `delivery` says how: email at once, a daily digest
    email, or in-app only."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("uq_subscriptions_problem", "user_id", "problem_id", unique=True,
              sqlite_where=db.text("kind = 'problem'"), postgresql_where=db.text("kind = 'problem'")),
        Index("ix_subscriptions_kind_category", "kind", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problems.id"), index=True)
    category: Mapped[str | None] = mapped_column(String(40))
    centre_lat: Mapped[float | None] = mapped_column(Float)
    centre_lon: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    min_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    delivery: Mapped[str] = mapped_column(String(20), default=Delivery.immediate.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    problem: Mapped[Problem | None] = relationship()


class Photo(db.Model):
    """A checked, re-encoded, metadata-free image attached to a problem, an update or a
    claim's evidence. The bytes live in the storage backend under `storage_key`."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(100), unique=True)
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problems.id"), index=True)
    update_id: Mapped[int | None] = mapped_column(ForeignKey("problem_updates.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
