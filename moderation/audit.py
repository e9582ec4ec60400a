"""The audit log's one writer. Rows are only ever inserted (never updated or deleted)."""
from __future__ import annotations

import enum
import json
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from moderation.models import AuditEntry
from timeutil import utcnow


class Action(str, enum.Enum):
    hide = "hide"
    restore = "restore"
    dismiss = "dismiss"
    release = "release"
    suspend = "suspend"
    lift = "lift_suspension"
    role = "role_change"
    word_add = "word_added"
    word_remove = "word_removed"


def record(session: Session, *, actor, action: Action | str, object_kind: str | None = None,
           object_id: int | None = None, reason: str | None = None, detail: dict | None = None,
           now: datetime | None = None) -> AuditEntry:
    """Write one audit row in the caller's transaction. actor None: the command line."""
    entry = AuditEntry(actor_id=getattr(actor, "id", None), action=Action(action).value,
                       object_kind=object_kind, object_id=object_id, reason=reason or None,
                       detail=json.dumps(detail, sort_keys=True) if detail else None,
                       created_at=now or utcnow())
    session.add(entry)
    session.flush()
    return entry


def log_select(*, actor, action: str | None = None) -> Select:
    """The audit log, for admins only (the pages and the API ask this)."""
    from errors import Forbidden

    if not actor.is_admin:
        raise Forbidden("read the audit log", "it is for admins.")
    return entries_select(action)


def entries_select(action: str | None = None) -> Select:
    """Newest first, optionally one kind of action."""
    stmt = (select(AuditEntry).options(joinedload(AuditEntry.actor))
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return stmt
