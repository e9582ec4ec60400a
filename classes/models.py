"""A school class is a team run by its teacher (the team's captain, not a member), whose
members are children with teacher-made accounts (users.is_child, no email)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import Team, User
from extensions import db
from timeutil import UTCDateTime, utcnow


class SecretKind:
    password = "password"   # two words and a number, e.g. "green-otter-27"
    pictures = "pictures"   # four pictures in order from a small fixed set


class SchoolClass(db.Model):
    __tablename__ = "school_classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The class's team: boards, team quests and the rest of the app see the class as it.
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), unique=True)
    # Typed by children on the class login page (not the team's join code: nobody joins a
    # class by code, a teacher makes its accounts).
    code: Mapped[str] = mapped_column(String(8), unique=True)
    secret_kind: Mapped[str] = mapped_column(String(10), default=SecretKind.password)
    streaks_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    show_in_rankings: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    children_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    team: Mapped[Team] = relationship()

    @property
    def name(self) -> str:
        return self.team.name

    @property
    def teacher_id(self) -> int:
        return self.team.captain_id

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class ClassChild(db.Model):
    """A child's login card: the card name they type and their hashed secret (a password or
    a picture-PIN, kept in users.password_hash). Failed logins lock the card for a while."""

    __tablename__ = "class_children"
    __table_args__ = (UniqueConstraint("class_id", "card_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_classes.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    card_name: Mapped[str] = mapped_column(String(40))
    secret_set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    school_class: Mapped[SchoolClass] = relationship()
    user: Mapped[User] = relationship()


class NameRequest(db.Model):
    """A child's free-text display name, waiting for their teacher's approval."""

    __tablename__ = "class_name_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("school_classes.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    requested_name: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, approved, refused
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
