"""The only code that inserts ledger rows.

`award` inserts with ON CONFLICT DO NOTHING on the idempotency key, so the database, not a
check-then-insert, guarantees that an award happens once. The members it touches are
queued on the session and pushed to the leaderboard projection after commit (see
scoring/projection.py), so a rolled-back award never reaches Redis.
"""
from __future__ import annotations

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

import aftercommit
from scoring.models import LedgerEntry
from timeutil import utcnow

PENDING_KEY = "fixquest.leaderboard_pending"


def _insert_for(session: Session):
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(LedgerEntry).on_conflict_do_nothing(index_elements=["idempotency_key"])
    if dialect == "sqlite":
        return sqlite.insert(LedgerEntry).on_conflict_do_nothing(index_elements=["idempotency_key"])
    return insert(LedgerEntry)  # pragma: no cover - other databases are not supported


KINDS = ("award", "review", "badge", "bonus", "rescore", "reversal")


def award(session: Session, *, key: str, amount: int, reason: str, user_id: int | None = None,
          team_id: int | None = None, claim_id: int | None = None, kind: str = "award",
          reverses_id: int | None = None) -> int | None:
    """Record `amount` points once for `key`. Returns the new row id, or None if `key` was
    already awarded (by this or any concurrent transaction)."""
    if user_id is None and team_id is None:
        raise ValueError("an award needs a user or a team")
    if kind not in KINDS:
        raise ValueError(f"unknown ledger kind {kind!r}")
    stmt = _insert_for(session).values(
        idempotency_key=key, amount=amount, reason=reason[:200], user_id=user_id,
        team_id=team_id, claim_id=claim_id, kind=kind, reverses_id=reverses_id, created_at=utcnow(),
    ).returning(LedgerEntry.id)
    entry_id = session.execute(stmt).scalar_one_or_none()
    if entry_id is not None:
        if user_id is not None:
            aftercommit.queue(session, PENDING_KEY, ("participants", user_id))
        if team_id is not None:
            aftercommit.queue(session, PENDING_KEY, ("teams", team_id))
    return entry_id


def lifetime_points(session: Session, user_id: int) -> int:
    """A participant's total: the sum of every ledger row that credits them."""
    return int(session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                              .where(LedgerEntry.user_id == user_id)))


def reverse(session: Session, *, entry: LedgerEntry, reason: str) -> int | None:
    """Undo an entry with a compensating one that names it; rows are never changed or
    deleted. Reversing the same entry twice records nothing the second time."""
    if entry.kind == "reversal":
        raise ValueError("a reversal is not itself reversed; award again instead")
    return award(session, key=f"reversal:{entry.id}", amount=-entry.amount, reason=reason, kind="reversal",
                 user_id=entry.user_id, team_id=entry.team_id, claim_id=entry.claim_id, reverses_id=entry.id)


def reassign(session: Session, mapping: dict[int, int]) -> None:
    """Move every row crediting a user to another user: {old user id: new user id}.

    The one place ledger rows change rather than being appended: erasing a school-class
    child's personal data (classes.services.delete_children). Their rows move to an
    anonymous stand-in, so nothing left names the child, while amounts, kinds, keys,
    claims and team columns stay as they were: every team total (the class's above all)
    is exactly what it was. The stand-ins' standings are refreshed after commit."""
    if not mapping:
        return
    session.execute(update(LedgerEntry).where(LedgerEntry.user_id.in_(list(mapping)))
                    .values(user_id=case(mapping, value=LedgerEntry.user_id))
                    .execution_options(synchronize_session=False))
    for new_id in mapping.values():
        aftercommit.queue(session, PENDING_KEY, ("participants", new_id))
