"""Time helpers: every stored time is an aware UTC datetime."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """Treat naive datetimes as UTC and convert aware ones to UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, e.g. 2026-11-27T09:30:00Z."""
    if value is None:
        return None
    # Not strftime("%Y"): on Linux it writes the year 900 as "900", not ISO 8601's "0900".
    return as_utc(value).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def local_text(value: datetime | None, zone: str | None = None) -> str:
    """"27 Nov 2026, 09:30" in `zone`, by default the site's (FIXQUEST_TIMEZONE): how pages
    and messages show a time to people. Outside an app, UTC."""
    if value is None:
        return ""
    if zone is None:
        zone = current_app.config["TIMEZONE"] if has_app_context() else "UTC"
    return as_utc(value).astimezone(ZoneInfo(zone)).strftime("%-d %b %Y, %H:%M")


class UTCDateTime(TypeDecorator):
    """A timestamp column that always hands back aware UTC datetimes.

    PostgreSQL stores timestamptz; SQLite keeps no zone, so values are normalised to UTC
    on the way in and marked UTC on the way out. Comparisons then work on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        value = as_utc(value)
        if value is not None and dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        return as_utc(value)
