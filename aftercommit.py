"""Work that may only happen once a database transaction has committed.

A service queues items under a key on its session (`queue`); after the commit each key's
handler gets them, in an app context, and after a rollback they are dropped, so nothing
outside the database (Redis, the job queue) ever hears of work that did not happen. A
handler's failure is logged and never fails the request: the committed rows stand, and
each handler's owner says how to recover (a rebuild, a cron).

Used by the leaderboard projection (scoring/projection.py) and notification dispatch
(notifications/dispatch.py).
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Hashable

from flask import has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_handlers: dict[str, Callable[[list], None]] = {}


def queue(session: Session, key: str, item: Hashable) -> bool:
    """Queue `item` under `key` until the commit; False if it was queued already."""
    pending: dict = session.info.setdefault(key, {})
    if item in pending:
        return False
    pending[item] = None  # a dict keeps the order items were queued in
    return True


def on_commit(key: str, handler: Callable[[list], None]) -> None:
    """Hand the items queued under `key` to `handler` after each commit."""
    _handlers[key] = handler
    if not event.contains(FlaskSession, "after_commit", _after_commit):
        event.listen(FlaskSession, "after_commit", _after_commit)
        event.listen(FlaskSession, "after_soft_rollback", _after_rollback)


def outermost_commit(session) -> bool:
    """SQLAlchemy sends after_commit for a SAVEPOINT's release too (`begin_nested`), while
    the enclosing transaction is still open: only the outermost commit makes work real."""
    return not session.in_nested_transaction()


def outermost_rollback(transaction) -> bool:
    """after_soft_rollback fires for each transaction rolled back; a SAVEPOINT's rollback
    leaves the enclosing transaction (and the work it queued) alive."""
    return transaction.parent is None


def _after_commit(session) -> None:
    if not outermost_commit(session):
        return
    for key, handler in _handlers.items():
        items = session.info.pop(key, None)
        if not items:
            continue
        if not has_app_context():
            log.warning("%s: %d items committed outside the app were not handed on", key, len(items))
            continue
        try:
            handler(list(items))
        except Exception:
            log.exception("%s: after-commit handler failed for %d items", key, len(items))


def _after_rollback(session, previous_transaction) -> None:
    if not outermost_rollback(previous_transaction):
        return
    for key in _handlers:
        session.info.pop(key, None)
