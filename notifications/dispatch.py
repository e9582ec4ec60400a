"""Hand published updates to the job queue once their transaction has committed.

notifications.services.publish queues update ids (aftercommit.queue); after the commit they
are enqueued as fan-out jobs (nothing is delivered in the request), and a rollback
discards them, so a job never looks for an update that does not exist. Enqueueing never
fails the request: the outbox row is committed, and `flask notifications deliver` finds
updates whose job was lost.
"""
from __future__ import annotations

import logging

from flask import current_app

import aftercommit
from notifications.services import PENDING_KEY

log = logging.getLogger(__name__)


def enqueue_fan_outs(update_ids: list) -> None:
    from notifications.jobs import fan_out_job

    jobs = current_app.extensions.get("fixquest.jobs")
    if jobs is None:
        log.warning("updates %s committed without a job queue; run `flask --app app notifications deliver`",
                    update_ids)
        return
    for update_id in update_ids:
        try:
            jobs.enqueue(fan_out_job, update_id)
        except Exception:  # the update and its outbox row are committed; cron recovers
            log.exception("could not enqueue fan-out of update %s", update_id)


def install() -> None:
    aftercommit.on_commit(PENDING_KEY, enqueue_fan_outs)
