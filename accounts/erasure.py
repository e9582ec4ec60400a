"""Erasing accounts while keeping what the people did.

Used by a teacher deleting an archived class's children (classes.services.delete_children)
and by a grown-up deleting their own account (accounts.mydata.delete_account). Each erased
person gets one anonymous stand-in user (no email, no usable password, hidden from boards):
their ledger rows move to it through scoring.ledger.reassign, and every other column naming
them, in any table (including tables added later), names it instead. Rows that are only
about the person (PERSONAL_COLUMNS) are deleted. Amounts, keys, claims and team columns
are untouched, so every team total is exactly what it was.

Functions flush; the caller commits, then calls `forget` for what lives outside the
database (photo files, the leaderboard projection).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from accounts.models import SYSTEM_ROLE, User
from challenges.models import Claim, Photo, Problem, Subscription, SubscriptionKind
from extensions import db
from scoring import ledger
from scoring.leaderboards import SCOPE_KINDS, Scope
from scoring.models import LedgerEntry
from scoring.projection import LEFT_KEY
from timeutil import utcnow

# (table, column) pairs whose rows are only about the person: deleted with the account.
PERSONAL_COLUMNS = frozenset({
    ("team_memberships", "user_id"), ("team_join_requests", "user_id"), ("api_tokens", "user_id"),
    ("notifications", "user_id"), ("subscriptions", "user_id"), ("class_children", "user_id"),
    ("class_name_requests", "user_id"),
})
# A child's photos are personal too (a grown-up's stay with their public problems and fixes).
CHILD_PERSONAL_COLUMNS = PERSONAL_COLUMNS | {("photos", "uploader_id")}


@dataclass(frozen=True)
class Erasure:
    user_ids: list[int]    # the deleted accounts, for the leaderboard projection after the commit
    photo_keys: list[str]  # stored files to delete after the commit


def user_columns(table) -> list:
    """The columns of `table` that name a user."""
    return [fk.parent for fk in table.foreign_keys if fk.column.table.name == "users"]


def erase_users(session: Session, users: Sequence[User], *, stand_in_name: str, child: bool,
                evidence_note: str | None = None, now: datetime | None = None) -> Erasure:
    """Delete these accounts, keeping their contributions under one stand-in each.

    `child`: the stand-ins are children's accounts (never shown anywhere) and the people's
    photos are deleted. `evidence_note`: replaces the text of their claims' evidence (None
    keeps it, as part of a public fix)."""
    if not users:
        return Erasure([], [])
    now = now or utcnow()
    stand_ins = {}
    for user in users:
        stand_in = User(email=None, password_hash="!", display_name=stand_in_name, role=SYSTEM_ROLE,
                        is_child=child, hidden_from_boards=True, created_at=now)
        session.add(stand_in)
        stand_ins[user.id] = stand_in
    session.flush()
    mapping = {user_id: stand_in.id for user_id, stand_in in stand_ins.items()}
    user_ids = list(mapping)
    left = _scopes_of(session, user_ids)
    personal = CHILD_PERSONAL_COLUMNS if child else PERSONAL_COLUMNS
    photo_keys = _delete_personal_rows(session, user_ids, personal)
    if evidence_note is not None:
        session.execute(update(Claim).where(Claim.user_id.in_(user_ids)).values(evidence=evidence_note)
                        .execution_options(synchronize_session=False))
    ledger.reassign(session, mapping)
    _reassign_references(session, mapping, personal)
    session.execute(delete(User).where(User.id.in_(user_ids)).execution_options(synchronize_session=False))
    # Bulk deletes are not seen by scoring.projection: tell it the people left their scopes.
    session.info.setdefault(LEFT_KEY, set()).update(left)
    session.flush()
    session.expire_all()
    return Erasure(user_ids, photo_keys)


def _scopes_of(session: Session, user_ids: list[int]) -> set[tuple[Scope, int]]:
    """(scope, user id) for every projected scope the people are in, before they leave it."""
    conn = session.connection()
    return {(Scope(kind.kind, scope_id), user_id)
            for kind in SCOPE_KINDS.values() if kind.projected
            for user_id, scope_id in kind.groups_of(conn, user_ids)}


def _delete_personal_rows(session: Session, user_ids: list[int], personal: Iterable[tuple[str, str]]) -> list[str]:
    personal = set(personal)
    if ("subscriptions", "user_id") in personal:
        counts = session.execute(select(Subscription.problem_id, func.count()).where(
            Subscription.user_id.in_(user_ids), Subscription.kind == SubscriptionKind.problem.value)
            .group_by(Subscription.problem_id)).all()
        for problem_id, n in counts:
            session.execute(update(Problem).where(Problem.id == problem_id)
                            .values(subscribers_count=Problem.subscribers_count - n))
    photo_keys = []
    if ("photos", "uploader_id") in personal:
        photo_keys = list(session.scalars(select(Photo.storage_key).where(Photo.uploader_id.in_(user_ids))))
    for table in db.metadata.sorted_tables[::-1]:
        for column in user_columns(table):
            if (table.name, column.name) in personal:
                session.execute(delete(table).where(column.in_(user_ids)))
    return photo_keys


def _reassign_references(session: Session, mapping: dict[int, int], personal: set[tuple[str, str]]) -> None:
    """Every other column naming an erased person now names their stand-in (one UPDATE per
    column, any table). One stand-in per person, so no unique constraint can collide."""
    for table in db.metadata.sorted_tables:
        if table.name in ("users", LedgerEntry.__tablename__):
            continue
        for column in user_columns(table):
            if (table.name, column.name) not in personal:
                session.execute(update(table).where(column.in_(list(mapping)))
                                .values({column.name: case(mapping, value=column)}))


def forget(erasure: Erasure) -> None:
    """After the commit: the erased people's photo files and their places in the
    leaderboard projection. A failure is logged; the erasure itself stands (and `flask
    scoring rebuild` redoes the projection)."""
    from media.services import thumb_key

    storage = current_app.extensions["fixquest.storage"]
    for name in (n for key in erasure.photo_keys for n in (key, thumb_key(key))):
        try:
            storage.delete(name)
        except Exception:
            current_app.logger.exception("could not delete photo %s", name)
    try:
        current_app.extensions["fixquest.leaderboard"].erased(erasure.user_ids)
    except Exception:
        current_app.logger.exception("could not remove erased people from the leaderboards")
