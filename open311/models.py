"""Open311 tables: organisations' api_keys and what a client sent with a request."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.models import User
from extensions import db
from timeutil import UTCDateTime, utcnow


class Open311ApiKey(db.Model):
    """An organisation's key for POSTing service requests. Only its SHA-256 digest is kept
    (a random 256-bit secret needs no slow hash). `reporter_id` is the system user its
    reports are filed under, made the first time the key posts."""

    __tablename__ = "open311_api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])


class Open311Request(db.Model):
    """A problem that arrived through Open311: which key sent it and its media_url. The
    service_request_id is the problem's id. The poster's email, names, phone, device_id and
    account_id are deliberately not stored (FixQuest has no use for them, and what is not
    kept cannot leak)."""

    __tablename__ = "open311_requests"

    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("open311_api_keys.id"), index=True)
    media_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Open311Imported(db.Model):
    """A problem imported from another GeoReport v2 server: `source` is that endpoint's base
    URL and `external_id` its service_request_id there. UNIQUE(source, external_id) is what
    makes an import happen once, however many runs overlap; `remote_updated_at` is the
    source's updated_datetime when last read, `last_seen_at` when this server last saw it."""

    __tablename__ = "open311_imported"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(500))
    external_id: Mapped[str] = mapped_column(String(200))
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id"), unique=True)
    remote_status: Mapped[str | None] = mapped_column(String(40))
    remote_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
