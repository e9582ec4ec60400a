"""Push committed changes to the leaderboard projection.

ledger.award queues (board, member) pairs on the session. This module also watches the
session for the other changes a leaderboard shows: a participant's display name, a team's
name, a participant hiding from (or returning to) public boards, and team memberships
created or deleted. After the transaction commits they are handed to the app's leaderboard
backend; a rollback discards them, so Redis never shows what the database does not hold.
A failure here never fails the request: the change stands and `flask scoring rebuild`
repairs the projection.

Only changes made through ORM objects are seen; a bulk UPDATE or DELETE statement on users,
teams or team_memberships must queue its members itself (or be followed by a rebuild).
"""
from __future__ import annotations

import logging

from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, inspect

import aftercommit
from accounts.models import Team, TeamMembership, User
from scoring.leaderboards import Scope
from scoring.ledger import PENDING_KEY

log = logging.getLogger(__name__)

VISIBILITY_KEY = "fixquest.leaderboard_visibility"  # user ids whose hidden_from_boards or is_child changed
JOINED_KEY = "fixquest.leaderboard_joined"          # (Scope, user_id) memberships created
LEFT_KEY = "fixquest.leaderboard_left"              # (Scope, user_id) memberships deleted
_KEYS = (PENDING_KEY, VISIBILITY_KEY, JOINED_KEY, LEFT_KEY)


def _changed(obj, attribute: str) -> bool:
    return inspect(obj).attrs[attribute].history.has_changes()


def _after_flush(session, flush_context) -> None:
    """Note what changed in this flush (the collections still hold the flushed objects)."""
    for obj in session.dirty:
        if isinstance(obj, User):
            if _changed(obj, "hidden_from_boards") or _changed(obj, "is_child") or _changed(obj, "profile_hidden"):
                session.info.setdefault(VISIBILITY_KEY, set()).add(obj.id)
            elif _changed(obj, "display_name"):
                session.info.setdefault(PENDING_KEY, set()).add(("participants", obj.id))
        elif isinstance(obj, Team) and _changed(obj, "name"):
            session.info.setdefault(PENDING_KEY, set()).add(("teams", obj.id))
    for obj in session.new:
        if isinstance(obj, TeamMembership):
            session.info.setdefault(JOINED_KEY, set()).add((Scope("team", obj.team_id), obj.user_id))
    for obj in session.deleted:
        if isinstance(obj, TeamMembership):
            session.info.setdefault(LEFT_KEY, set()).add((Scope("team", obj.team_id), obj.user_id))


def _after_commit(session) -> None:
    if not aftercommit.outermost_commit(session):  # a SAVEPOINT: the transaction goes on
        return
    pending, visibility, joined, left = (session.info.pop(key, None) for key in _KEYS)
    if not (pending or visibility or joined or left) or not has_app_context():
        return
    backend = current_app.extensions["fixquest.leaderboard"]
    try:
        if visibility or joined or left:
            backend.reshaped(visibility=visibility or (), joined=joined or (), left=left or ())
        if pending:
            backend.refresh(sorted(pending))
    except Exception:  # the change is committed; the projection is repairable
        log.exception("leaderboard refresh failed; run `flask --app app scoring rebuild`")


def _after_rollback(session, previous_transaction) -> None:
    if not aftercommit.outermost_rollback(previous_transaction):
        return
    for key in _KEYS:
        session.info.pop(key, None)


def install() -> None:
    if not event.contains(FlaskSession, "after_commit", _after_commit):
        event.listen(FlaskSession, "after_flush", _after_flush)
        event.listen(FlaskSession, "after_commit", _after_commit)
        event.listen(FlaskSession, "after_soft_rollback", _after_rollback)
