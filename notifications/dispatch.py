"""Hand published updates to the job queue once their transaction has committed.

notifications.services.publish queues update ids on session.info; after the commit they
are enqueued as fan-out jobs (nothing is delivered in the request), and a rollback
discards them, so a job never looks for an update that does not exist. Enqueueing never
fails the request: the outbox row is committed, and `flask notifications deliver` finds
updates whose job was lost.
"""
from __future__ import annotations

import logging

from flask import current_app, has_app_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event

from notifications.services import PENDING_KEY

log = logging.getLogger(__name__)


def _after_commit(session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    if not has_app_context() or "fixquest.jobs" not in current_app.extensions:
        log.warning("updates %s committed outside the app; run `flask --app app notifications deliver`", pending)
        return
    from notifications.jobs import fan_out_job

    jobs = current_app.extensions["fixquest.jobs"]
    for update_id in pending:
        try:
            jobs.enqueue(fan_out_job, update_id)
        except Exception:  # the update and its outbox row are committed; cron recovers
            log.exception("could not enqueue fan-out of update %s", update_id)


def _after_rollback(session) -> None:
    session.info.pop(PENDING_KEY, None)


def install() -> None:
    if not event.contains(FlaskSession, "after_commit", _after_commit):
        event.listen(FlaskSession, "after_commit", _after_commit)
        event.listen(FlaskSession, "after_rollback", _after_rollback)
