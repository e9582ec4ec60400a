"""Push committed ledger changes to the leaderboard projection.

ledger.award queues (board, member) pairs on the session; after the transaction commits
they are handed to the app's leaderboard backend. A rollback discards them, so Redis never
shows points the database does not hold. A failure here never fails the request: the
award stands and `flask scoring rebuild` repairs the projection.
"""
from __future__ import annotations

import logging

from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event

from scoring.ledger import PENDING_KEY

log = logging.getLogger(__name__)


def _after_commit(session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    if not pending or not has_app_context():
        return
    try:
        current_app.extensions["fixquest.leaderboard"].refresh(sorted(pending))
    except Exception:  # the award is committed; the projection is repairable
        log.exception("leaderboard refresh failed; run `flask --app app scoring rebuild`")


def _after_rollback(session) -> None:
    session.info.pop(PENDING_KEY, None)


def install() -> None:
    if not event.contains(FlaskSession, "after_commit", _after_commit):
        event.listen(FlaskSession, "after_commit", _after_commit)
        event.listen(FlaskSession, "after_rollback", _after_rollback)
