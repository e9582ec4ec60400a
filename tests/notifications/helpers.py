"""Helpers for the notification tests: senders that record or fail, running the job
queue to completion on either backend, and problems, updates and subscriptions made
directly (so these tests do not depend on how other services create them)."""
from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import select

from challenges import geo
from challenges.models import Problem, ProblemUpdate, Subscription
from extensions import db
from notifications.jobs import RqJobQueue, work_off
from notifications.models import Notification, NotificationFanout
from notifications.services import publish
from timeutil import utcnow

BRISTOL = (51.4545, -2.5879)


class RecordingSender:
    """Keeps every message it is given (thread-safe); optionally fails the first
    `fail_times` sends or waits on `gate` before each send."""

    name = "recording"

    def __init__(self, *, fail_times: int = 0, gate: threading.Event | None = None, delay: float = 0.0):
        self.messages = []
        self.threads: set[str] = set()
        self.attempts = 0
        self.fail_times = fail_times
        self.gate = gate
        self.delay = delay
        self._lock = threading.Lock()

    def send(self, message) -> None:
        if self.gate is not None:
            assert self.gate.wait(30), "test gate never opened"
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.threads.add(threading.current_thread().name)
            self.attempts += 1
            if self.attempts <= self.fail_times:
                raise ConnectionRefusedError("SMTP server said no")
            self.messages.append(message)

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


def drain(app, timeout: float = 30.0) -> None:
    """Run every queued job (and the jobs they queue) to the end, on any backend; on RQ,
    fail on any job that failed."""
    work_off(app, timeout=timeout)
    jobs = app.extensions["fixquest.jobs"]
    if isinstance(jobs, RqJobQueue):
        from rq.registry import FailedJobRegistry

        failed = FailedJobRegistry(queue=jobs.queue)
        assert failed.count == 0, [jobs.queue.fetch_job(job_id).exc_info for job_id in failed.get_job_ids()]


def add_problem(reporter, *, title="Pothole on Broad Street", category="pothole", lat=BRISTOL[0],
                lon=BRISTOL[1], subscribers_count=0) -> Problem:
    problem = Problem(title=title, description="Deep enough to break an ankle.", category=category, lat=lat,
                      lon=lon, cell=geo.cell_of(lat, lon), reporter_id=reporter.id, status="open",
                      subscribers_count=subscribers_count)
    db.session.add(problem)
    db.session.commit()
    return problem


def add_update(problem, author, *, kind="status", new_status="fixed", body=None, publish_it=True,
               created_at: datetime | None = None) -> ProblemUpdate:
    """An update made as the services make them: added, flushed, published, committed.
    With publish_it=False only the outbox row is written and no job is queued (for
    calling fan_out directly)."""
    entry = ProblemUpdate(problem_id=problem.id, author_id=author.id, kind=kind,
                          old_status=problem.status if kind == "status" else None,
                          new_status=new_status if kind in ("status", "reported") else None,
                          body=body, created_at=created_at or utcnow())
    db.session.add(entry)
    db.session.flush()
    if publish_it:
        publish(db.session, entry)
    else:
        db.session.add(NotificationFanout(update_id=entry.id))
    db.session.commit()
    return entry


def follow(user, problem=None, *, delivery="immediate", **area) -> Subscription:
    if problem is not None:
        sub = Subscription(user_id=user.id, kind="problem", problem_id=problem.id, delivery=delivery)
    elif "category" in area:
        sub = Subscription(user_id=user.id, kind="category", delivery=delivery, **area)
    else:
        sub = Subscription(user_id=user.id, kind="area", delivery=delivery, **area)
    db.session.add(sub)
    db.session.commit()
    return sub


def rows(**where) -> list[Notification]:
    db.session.expire_all()
    stmt = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(Notification, name) == value)
    return list(db.session.scalars(stmt))


def states(update_id: int) -> set[tuple[int, str, str]]:
    """{(user_id, channel, state)} of an update's notifications."""
    return {(n.user_id, n.channel, n.state) for n in rows(update_id=update_id)}
