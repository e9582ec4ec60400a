"""Flags, moderated items, the word list and the append-only audit log.

The content itself says whether it is public: `problems.visibility`,
`problem_updates.visibility` and `claims.evidence_visibility` are "public", "hidden" (by a
moderator) or "held" (by the word list, waiting for review); `users.profile_hidden` hides a
profile. A `ModeratedItem` row keeps why, by whom and when, for the owner's note and the
queue.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from extensions import db
from timeutil import UTCDateTime, utcnow


class Kind(str, enum.Enum):
    """What can be flagged, hidden or held (object_id names a row of the table in brackets)."""
    problem = "problem"    # problems
    update = "update"      # problem_updates (status notes and comments)
    evidence = "evidence"  # claims (its evidence text and photos)
    profile = "profile"    # users


class Visibility(str, enum.Enum):
    public = "public"
    hidden = "hidden"  # a moderator hid it
    held = "held"      # the word list held it until a moderator releases it


PUBLIC = Visibility.public.value


class FlagReason(str, enum.Enum):
    spam = "spam"
    abuse = "abuse"
    personal = "personal"
    inappropriate = "inappropriate"
    false = "false"
    other = "other"


REASON_LABELS = {
    FlagReason.spam.value: "Spam or advertising",
    FlagReason.abuse.value: "Abusive, hateful or threatening",
    FlagReason.personal.value: "Shares someone's personal details",
    FlagReason.inappropriate.value: "Inappropriate for children",
    FlagReason.false.value: "False or misleading",
    FlagReason.other.value: "Something else",
}


class FlagStatus(str, enum.Enum):
    open = "open"
    dismissed = "dismissed"  # a moderator saw nothing to act on
    actioned = "actioned"    # the item was hidden


class Flag(db.Model):
    """One person's report that an item is abusive. One open flag per person and item."""

    __tablename__ = "moderation_flags"
    __table_args__ = (
        Index("uq_moderation_flags_open", "kind", "object_id", "reporter_id", unique=True,
              sqlite_where=db.text("status = 'open'"), postgresql_where=db.text("status = 'open'")),
        Index("ix_moderation_flags_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    object_id: Mapped[int] = mapped_column(Integer)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=FlagStatus.open.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])


class ModeratedItem(db.Model):
    """The moderation state of one item that was ever hidden or held: why, by whom, when.
    The item's own visibility column is what every public surface filters on."""

    __tablename__ = "moderated_items"
    __table_args__ = (UniqueConstraint("kind", "object_id"),
                      Index("ix_moderated_items_state_created", "state", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    object_id: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(10))  # a Visibility value
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class HeldWord(db.Model):
    """A word on the admins' list: posts containing it are held for review (besides the
    words in FIXQUEST_MODERATION_WORDS)."""

    __tablename__ = "moderation_words"

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(60), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(db.Model):
    """Who did what to which object, when and why. Only inserted: the app never updates or
    deletes a row (audit.record is the one writer)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_created", "action", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Not a foreign key: deleting an account (accounts/erasure.py) rewrites every column that
    # references users, and audit rows are never rewritten. None: the command line.
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_kind: Mapped[str | None] = mapped_column(String(20))
    object_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    actor: Mapped[User | None] = relationship(primaryjoin="foreign(AuditEntry.actor_id) == User.id", viewonly=True)
