"""Webhook jobs on the shared job queue (notifications/jobs.py: RQ with REDIS_URL, else
threads; a manual queue in tests). Plain module-level functions taking ids, as RQ wants."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask

from extensions import db
from notifications.jobs import job_context
from timeutil import utcnow
from webhooks import delivery
from webhooks.models import Webhook


def settings(app: Flask) -> delivery.Settings:
    return delivery.Settings.from_config(app.config)


def notifier(app: Flask):
    """Email a webhook's owner that it was disabled (through the app's mail sender)."""
    def notify(webhook: Webhook) -> None:
        from notifications.mail import absolute_url

        message = delivery.disabled_email(webhook, mail_from=app.config["MAIL_FROM"],
                                          page_url=absolute_url("webhooks.detail", webhook_id=webhook.id))
        if message is not None:
            app.extensions["fixquest.mail"].send(message)
    return notify


def deliver_job(delivery_id: int) -> str | None:
    """One attempt at one delivery; on failure the retry is scheduled on the queue (best
    effort: `flask webhooks retry-due` and the notifications worker's tick catch up)."""
    with job_context() as app:
        outcome = delivery.deliver(db.session, delivery_id, settings=settings(app), notify=notifier(app))
        if outcome is None:
            return None
        if outcome.next_attempt_at is not None:
            wait = max(timedelta(0), outcome.next_attempt_at - utcnow()) + timedelta(seconds=1)
            app.extensions["fixquest.jobs"].enqueue_in(wait, deliver_job, delivery_id)
        return outcome.state


def retry_due(now=None) -> list[delivery.Outcome]:
    """Every due delivery, now (the cron, the CLI and the worker's tick)."""
    with job_context() as app:
        return delivery.retry_due(db.session, settings=settings(app), now=now, notify=notifier(app))
