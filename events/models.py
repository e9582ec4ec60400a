from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import Team, User
from extensions import db
from timeutil import UTCDateTime, utcnow


class EventMode(str, enum.Enum):
    solo = "solo"  # people enter one by one and claim solo quests
    team = "team"  # teams enter and claim team quests


class Event(db.Model):
    """A jam: quests in play between starts_at and ends_at (UTC, half-open), entries
    registered between registration_opens_at and registration_closes_at. After freeze_at
    the public board stays as it was then; after ends_at everyone sees the final board."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="window_order"),
        CheckConstraint("registration_closes_at > registration_opens_at", name="registration_order"),
        CheckConstraint("freeze_at IS NULL OR (freeze_at > starts_at AND freeze_at < ends_at)",
                        name="freeze_inside"),
        CheckConstraint("min_team_size >= 1 AND max_team_size >= min_team_size", name="team_sizes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    registration_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(10), default=EventMode.team.value)
    min_team_size: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    max_team_size: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
    hide_quests_until_start: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    freeze_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dynamic_scoring: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set once by events.services.finalise: results revealed, badges awarded.
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User] = relationship()

    @property
    def is_team(self) -> bool:
        return self.mode == EventMode.team.value

    def phase(self, now: datetime) -> str:
        """upcoming, running, frozen or ended."""
        if now < self.starts_at:
            return "upcoming"
        if now >= self.ends_at:
            return "ended"
        if self.freeze_at is not None and now >= self.freeze_at:
            return "frozen"
        return "running"


class EventOrganiser(db.Model):
    """An organiser of an event besides its creator."""

    __tablename__ = "event_organisers"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    user: Mapped[User] = relationship()


class EventQuest(db.Model):
    """A quest in play at an event; a quest belongs to at most one event."""

    __tablename__ = "event_quests"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    quest_id: Mapped[int] = mapped_column(ForeignKey("quests.id"), unique=True)


class EventEntry(db.Model):
    """A team (team events) or a person (solo events) registered for an event."""

    __tablename__ = "event_entries"
    __table_args__ = (
        UniqueConstraint("event_id", "team_id"),
        UniqueConstraint("event_id", "user_id"),
        CheckConstraint("(team_id IS NULL) <> (user_id IS NULL)", name="one_entrant"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    team: Mapped[Team | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
