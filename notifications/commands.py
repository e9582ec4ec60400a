"""`flask --app app notifications ...`: run the worker, deliver what is due, send digests."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import click
import redis
from flask import Flask, current_app
from flask.cli import AppGroup

from childsafe.notify import release_due
from extensions import db
from notifications.delivery import DeliveryReport, deliver_due, digest_cutoff, send_digests
from notifications.jobs import RqJobQueue, job_context
from notifications.services import fan_out, unfanned_update_ids
from timeutil import utcnow
from webhooks import jobs as webhook_jobs

notifications_cli = AppGroup("notifications", help="Deliver problem updates to subscribers.")


def _max_attempts(app: Flask) -> int:
    return int(app.config["NOTIFY_MAX_ATTEMPTS"])


def deliver_everything_due() -> tuple[int, DeliveryReport]:
    """Fan out updates whose job was lost, then send every due email (first tries and
    retries). Safe beside running workers and when repeated."""
    with job_context() as app:
        fanned = 0
        for update_id in unfanned_update_ids(db.session, limit=10_000):
            fanned += fan_out(db.session, update_id=update_id).claimed
            db.session.commit()
        release_due(db.session)  # children's in-app notifications held over quiet hours
        db.session.commit()
        report = deliver_due(db.session, sender=app.extensions["fixquest.mail"], max_attempts=_max_attempts(app),
                             lease=timedelta(seconds=app.config["NOTIFY_CLAIM_LEASE_SECONDS"]))
        return fanned, report


def send_scheduled_digest(now=None) -> DeliveryReport:
    """The digest covering everything up to today's DIGEST_HOUR (local time): run it as
    often as you like, it sends once a day."""
    with job_context() as app:
        now = now or utcnow()
        cutoff = digest_cutoff(now, hour=int(app.config["DIGEST_HOUR"]), timezone=app.config["TIMEZONE"])
        return send_digests(db.session, sender=app.extensions["fixquest.mail"], now=now, cutoff=cutoff,
                            max_attempts=_max_attempts(app))


def _echo(fanned: int, report: DeliveryReport) -> None:
    click.echo(f"Fanned out {fanned} updates; emails sent {report.sent}, retrying {report.retrying}, "
               f"failed {report.failed}.")


@notifications_cli.command("deliver")
def deliver_command() -> None:
    """Process everything due now: lost fan-outs, pending emails and due retries."""
    _echo(*deliver_everything_due())


@notifications_cli.command("digest")
def digest_command() -> None:
    """Send each person one email with all their digest notifications waiting until now."""
    with job_context() as app:
        report = send_digests(db.session, sender=app.extensions["fixquest.mail"], max_attempts=_max_attempts(app))
    click.echo(f"Digests sent {report.sent}; {report.retrying + report.failed} notifications not sent.")


def _tick_forever(app: Flask, interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        _tick(app)


def _tick(app: Flask) -> None:
    with app.app_context():
        try:
            deliver_everything_due()
            send_scheduled_digest()
            webhook_jobs.retry_due()  # due webhook deliveries (webhooks/) on the same tick
        except Exception:  # keep ticking: the next minute may work
            app.logger.exception("notifications tick failed")


@notifications_cli.command("worker")
@click.option("--burst", is_flag=True, help="Process what is waiting, then exit.")
@click.option("--interval", default=60.0, show_default=True, help="Seconds between due-retry/digest checks.")
def worker_command(burst: bool, interval: float) -> None:
    """Run jobs: RQ's queue "fixquest" when REDIS_URL is set (with its scheduler, for
    retries), else a polling loop. Either way, every --interval seconds it also delivers
    due retries and lost fan-outs, and sends the daily digest after DIGEST_HOUR."""
    app = current_app._get_current_object()
    jobs = app.extensions["fixquest.jobs"]
    _tick(app)
    if isinstance(jobs, RqJobQueue):
        from rq import SimpleWorker

        stop = threading.Event()
        if not burst:
            threading.Thread(target=_tick_forever, args=(app, interval, stop), daemon=True).start()
        click.echo(f"RQ worker on queue {jobs.queue.name!r}.")
        try:
            while True:
                try:
                    SimpleWorker([jobs.queue], connection=jobs.connection).work(burst=burst, with_scheduler=not burst)
                    return
                except redis.RedisError as failure:  # Redis away (a restart): wait for it, never exit
                    if burst:
                        raise
                    click.echo(f"Redis unreachable ({failure}); trying again in {interval:g} s.", err=True)
                    time.sleep(interval)
        finally:
            stop.set()
    click.echo("No REDIS_URL: polling the database for due notifications.")
    while not burst:
        time.sleep(interval)
        _tick(app)
