"""Background jobs: fan-out and delivery, on RQ (with REDIS_URL) or in-process threads.

`JobQueue` is the interface; notifications.wiring picks `RqJobQueue` (queue "fixquest",
run by `flask --app app notifications worker` or `rq worker`) when REDIS_URL is set and
`ThreadJobQueue` (a small thread pool in the web process) otherwise, and keeps it in
app.extensions["fixquest.jobs"]. Either way the request that published an update has
already returned by the time its job runs: jobs are handed over after the commit.

The job functions are plain module-level functions (RQ imports them by name) that take
ids only and open their own app context, database session and transaction(s).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import timedelta
from typing import Protocol

from flask import Flask, current_app, has_app_context

from extensions import db

log = logging.getLogger(__name__)

QUEUE_NAME = "fixquest"


class JobQueue(Protocol):
    name: str

    def enqueue(self, func: Callable[..., object], *args) -> None:
        """Run func(*args) soon, in the background."""

    def enqueue_in(self, delay: timedelta, func: Callable[..., object], *args) -> None:
        """Run func(*args) after `delay` (best effort; `notifications deliver` catches up)."""


class ThreadJobQueue:
    """Jobs in a small thread pool inside this process, each in a fresh app context. For
    a single server without Redis; pending work is lost if the process dies, and
    `flask notifications deliver` (cron) finds it again."""

    name = "thread"

    def __init__(self, app: Flask, *, workers: int = 2):
        self.app = app
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fixquest-job")
        self._futures: set[Future] = set()
        self._lock = threading.Lock()

    def enqueue(self, func: Callable[..., object], *args) -> None:
        future = self._executor.submit(self._run, func, args)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)

    def enqueue_in(self, delay: timedelta, func: Callable[..., object], *args) -> None:
        timer = threading.Timer(max(0.0, delay.total_seconds()), self.enqueue, (func, *args))
        timer.daemon = True
        timer.start()

    def join(self, timeout: float = 30.0) -> bool:
        """Wait until no job is queued or running (jobs may enqueue jobs). For tests, the
        benchmark and shutdown. False on timeout."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.daemon = True
        timer.start()
        try:
            while not deadline.is_set():
                with self._lock:
                    pending = set(self._futures)
                if not pending:
                    return True
                wait(pending, timeout=0.2)
            return False
        finally:
            timer.cancel()

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)

    def _run(self, func: Callable[..., object], args: tuple) -> None:
        with self.app.app_context():
            try:
                func(*args)
            except Exception:  # a job failure must not kill the pool; cron `deliver` recovers
                log.exception("background job %s%r failed", getattr(func, "__name__", func), args)


class ManualJobQueue:
    """Jobs wait in memory until work_off() runs them, in this thread. The app uses it
    when TESTING without Redis, so tests are deterministic (nothing runs behind their
    back, e.g. while they count SQL statements), as they are on RQ, whose jobs also wait
    in Redis until a worker takes them."""

    name = "manual"

    def __init__(self, app: Flask):
        self.app = app
        self._jobs: list[tuple[Callable[..., object], tuple]] = []
        self._lock = threading.Lock()

    def enqueue(self, func: Callable[..., object], *args) -> None:
        with self._lock:
            self._jobs.append((func, args))

    def enqueue_in(self, delay: timedelta, func: Callable[..., object], *args) -> None:
        """Delayed jobs (retries) are dropped: tests run `deliver_due` with a clock instead."""

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()

    def work_off(self) -> int:
        """Run queued jobs, and the jobs they queue, until none is left; exceptions propagate."""
        done = 0
        while True:
            with self._lock:
                if not self._jobs:
                    return done
                func, args = self._jobs.pop(0)
            with self.app.app_context():
                func(*args)
            done += 1


class RqJobQueue:
    """Jobs on an RQ queue in Redis. If Redis does not answer, the job runs in-process
    instead (the outbox makes a duplicate harmless), so a Redis outage delays nothing."""

    name = "rq"

    def __init__(self, url: str, *, fallback: ThreadJobQueue, queue_name: str = QUEUE_NAME):
        import redis
        from rq import Queue

        # RQ stores pickled bytes: its own connection, without decode_responses.
        self.connection = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=1)
        self.queue = Queue(queue_name, connection=self.connection)
        self.fallback = fallback

    def enqueue(self, func: Callable[..., object], *args) -> None:
        try:
            self.queue.enqueue(func, *args, job_timeout=3600, result_ttl=0, failure_ttl=7 * 86400)
        except Exception:
            log.exception("could not enqueue %s on RQ; running it in-process", func.__name__)
            self.fallback.enqueue(func, *args)

    def enqueue_in(self, delay: timedelta, func: Callable[..., object], *args) -> None:
        try:
            self.queue.enqueue_in(delay, func, *args, job_timeout=3600, result_ttl=0, failure_ttl=7 * 86400)
        except Exception:
            log.exception("could not schedule %s on RQ; `notifications deliver` will catch up", func.__name__)


def make_queue(app: Flask) -> JobQueue:
    threads = ThreadJobQueue(app, workers=int(app.config["NOTIFY_THREADS"]))
    if app.config.get("REDIS_URL"):
        return RqJobQueue(app.config["REDIS_URL"], fallback=threads)
    if app.testing:
        return ManualJobQueue(app)
    return threads


def work_off(app: Flask, *, timeout: float = 30.0) -> None:
    """Run everything queued to the end, whichever queue the app has: for tests, the
    benchmark and `worker --burst`. RQ jobs run in this process (rq's SimpleWorker)."""
    jobs = app.extensions["fixquest.jobs"]
    if isinstance(jobs, ManualJobQueue):
        jobs.work_off()
    elif isinstance(jobs, ThreadJobQueue):
        if not jobs.join(timeout):
            raise TimeoutError("background jobs did not finish")
    elif isinstance(jobs, RqJobQueue):
        from rq import SimpleWorker

        with app.app_context():
            SimpleWorker([jobs.queue], connection=jobs.connection).work(burst=True)


# --- running jobs --------------------------------------------------------------------------

_standalone_app: Flask | None = None
_standalone_lock = threading.Lock()


def _app() -> Flask:
    """The current app, or (in a plain `rq worker`) one built once per process."""
    global _standalone_app
    if has_app_context():
        return current_app._get_current_object()
    with _standalone_lock:
        if _standalone_app is None:
            from app import create_app

            _standalone_app = create_app()
        return _standalone_app


@contextmanager
def job_context() -> Iterator[Flask]:
    """Each job gets its own app context and so its own database session, removed after."""
    app = _app()
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()


def queue() -> JobQueue:
    return current_app.extensions["fixquest.jobs"]


def sender():
    return current_app.extensions["fixquest.mail"]


# On RQ a big update's emails are shared by up to this many delivery jobs (so as many
# workers), one per this many emails; they take different rows (SKIP LOCKED).
DELIVERY_JOBS_MAX = 4
EMAILS_PER_DELIVERY_JOB = 1000


def fan_out_job(update_id: int) -> int:
    """Create an update's notifications, then hand its emails to delivery jobs."""
    from notifications.services import fan_out

    with job_context() as app:
        result = fan_out(db.session, update_id=update_id)
        db.session.commit()
        if result.emails_pending:
            jobs = app.extensions["fixquest.jobs"]
            copies = 1
            if isinstance(jobs, RqJobQueue):
                copies = min(DELIVERY_JOBS_MAX, -(-result.emails_pending // EMAILS_PER_DELIVERY_JOB))
            for _ in range(copies):
                jobs.enqueue(deliver_update_job, update_id)
        return result.created


def deliver_update_job(update_id: int) -> int:
    """Send one update's immediate emails."""
    return _deliver(update_id)


def deliver_due_job() -> int:
    """Send every due email (retries)."""
    return _deliver(None)


def _deliver(update_id: int | None) -> int:
    from notifications.delivery import deliver_due

    with job_context() as app:
        report = deliver_due(db.session, sender=app.extensions["fixquest.mail"], update_id=update_id,
                             max_attempts=app.config["NOTIFY_MAX_ATTEMPTS"],
                             lease=timedelta(seconds=app.config["NOTIFY_CLAIM_LEASE_SECONDS"]))
        if report.next_retry_at is not None:
            from timeutil import utcnow

            delay = max(timedelta(0), report.next_retry_at - utcnow()) + timedelta(seconds=1)
            app.extensions["fixquest.jobs"].enqueue_in(delay, deliver_due_job)
        return report.sent
