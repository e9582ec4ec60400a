"""One update to a problem with 10,000 subscribers must not slow the status-change request.

    python bench/notify_bench.py                       # temp SQLite file, no Redis
    python bench/notify_bench.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/fixquest_bench \\
        --redis-url redis://127.0.0.1:6379/14          # PostgreSQL, jobs on RQ

Seeds one problem followed by --subscribers people (a third each: email at once, daily
digest, in-app only) and one problem nobody follows. Then, --rounds times, it changes the
status of each through the real web route (POST /problems/<id>/status, as an organiser,
with the test client) and times the request, then times the fan-out job of the big
problem's update and its delivery job (emails to a sender that only counts them). It
prints the medians: the request should take as long with 10,000 subscribers as with
none, because the request only writes an outbox row and queues a job after the commit.

The database is emptied first, so a --database-url must name a database containing
"bench". With --redis-url each request really enqueues its job on RQ (queue "fixquest"
of that Redis database, emptied first), so the Redis round trip is timed too. Either way
the script then runs the job functions itself, one at a time, so nothing runs in the
background while a request is timed. Loopback only. Results go in BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

STATUSES = ("confirmed", "in_progress", "open")


class CountingSender:
    name = "counting"

    def __init__(self):
        self.sent = 0

    def send(self, message) -> None:
        self.sent += 1


class HeldJobs:
    """Keeps enqueued jobs (after also enqueueing them on RQ, to pay its real cost) so the
    script runs them itself, one at a time, and times them."""

    name = "held"

    def __init__(self, rq_queue=None):
        self.rq = rq_queue
        self.jobs = []

    def enqueue(self, func, *args) -> None:
        if self.rq is not None:
            self.rq.queue.enqueue(func, *args)
        self.jobs.append((func, args))

    def enqueue_in(self, delay, func, *args) -> None:
        pass

    def take(self):
        jobs, self.jobs = self.jobs, []
        if self.rq is not None:
            self.rq.queue.empty()
        return jobs


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="an emptied throwaway database (name must contain 'bench')")
    parser.add_argument("--redis-url", help="enqueue on RQ in this Redis database (loopback)")
    parser.add_argument("--subscribers", type=int, default=10_000, choices=range(1, 100_001), metavar="N")
    parser.add_argument("--rounds", type=int, default=7, choices=range(1, 22), metavar="1-21")
    return parser.parse_args(argv)


def check_target(args) -> None:
    if args.database_url:
        url = make_url(args.database_url)
        if "bench" not in (url.database or ""):
            sys.exit("--database-url must name a database whose name contains 'bench' (it is emptied).")
        if url.host not in (None, "127.0.0.1", "localhost", "::1"):
            sys.exit("loopback databases only")
    if args.redis_url and make_url(args.redis_url).host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("loopback Redis only")


def empty_database(url: str) -> None:
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in meta.sorted_tables:
                conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
        else:
            meta.drop_all(conn)
    engine.dispose()


def make_bench_app(database_url: str, redis_url: str | None):
    from app import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "TESTING": True,
        "WTF_CSRF_ENABLED": False, "SECRET_KEY": os.urandom(24).hex(), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })


def seed(n: int):
    """An organiser, a problem with n subscribers, and a problem nobody follows."""
    from accounts.models import User
    from challenges import geo
    from challenges.models import Problem, Subscription
    from extensions import db

    organiser = User(email="organiser@bench.example", password_hash="x", display_name="Organiser",
                     role="organiser")
    db.session.add(organiser)
    db.session.flush()
    problems = []
    for title in ("Pothole on Broad Street", "Quiet lane"):
        problem = Problem(title=title, description="Bench.", category="pothole", lat=51.4545, lon=-2.5879,
                          cell=geo.cell_of(51.4545, -2.5879), reporter_id=organiser.id, status="open")
        db.session.add(problem)
        problems.append(problem)
    db.session.flush()
    for start in range(0, n, 5_000):
        size = min(5_000, n - start)
        db.session.execute(insert(User), [
            {"email": f"s{start + i}@bench.example", "password_hash": "x", "display_name": f"S {start + i}",
             "role": "participant"} for i in range(size)])
    user_ids = db.session.scalars(select(User.id).where(User.role == "participant").order_by(User.id)).all()
    deliveries = ("immediate", "digest", "in_app")
    for start in range(0, n, 5_000):
        db.session.execute(insert(Subscription), [
            {"user_id": uid, "kind": "problem", "problem_id": problems[0].id, "delivery": deliveries[i % 3]}
            for i, uid in enumerate(user_ids[start:start + 5_000], start)])
    problems[0].subscribers_count = n
    db.session.commit()
    return organiser.id, problems[0].id, problems[1].id


def timed(func, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - started, result


def main(argv=None) -> int:
    args = parse_args(argv)
    check_target(args)
    workdir = None
    url = args.database_url
    if url is None:
        workdir = tempfile.mkdtemp(prefix="fixquest-notify-bench-")
        url = "sqlite:///" + os.path.join(workdir, "bench.db")
    else:
        empty_database(url)
    app = make_bench_app(url, args.redis_url)

    from extensions import db
    from notifications.jobs import RqJobQueue, deliver_update_job, fan_out_job
    from notifications.models import Notification

    real_queue = app.extensions["fixquest.jobs"]
    held = HeldJobs(real_queue if isinstance(real_queue, RqJobQueue) else None)
    if held.rq is not None:
        held.rq.queue.empty()
    app.extensions["fixquest.jobs"] = held
    sender = app.extensions["fixquest.mail"] = CountingSender()

    with app.app_context():
        started = time.perf_counter()
        organiser_id, big_id, quiet_id = seed(args.subscribers)
        print(f"Seeded {args.subscribers:,} subscribers in {time.perf_counter() - started:.1f} s "
              f"({db.engine.dialect.name}{', RQ' if held.rq is not None else ''}).")

    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(organiser_id)
        sess["_fresh"] = True

    request_big, request_quiet, fan_outs, deliveries, rows_made = [], [], [], [], []
    for round_no in range(args.rounds):
        status = STATUSES[round_no % len(STATUSES)]
        pair = ((quiet_id, request_quiet), (big_id, request_big))
        for problem_id, samples in pair if round_no % 2 else reversed(pair):  # alternate who goes first
            took, answer = timed(client.post, f"/problems/{problem_id}/status", data={"status": status})
            assert answer.status_code == 302, answer.status_code
            samples.append(took)
        jobs = held.take()
        for job, job_args in jobs:
            with app.app_context():
                took, created = timed(job, *job_args)
            if job is fan_out_job and created:
                fan_outs.append(took)
                rows_made.append(created)
        for job, job_args in held.take():
            assert job is deliver_update_job
            with app.app_context():
                took, _ = timed(job, *job_args)
            deliveries.append(took)

    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(Notification))
    ms = lambda values: f"{statistics.median(values) * 1000:,.1f} ms"  # noqa: E731
    print(f"Status-change request, problem with {args.subscribers:,} subscribers: {ms(request_big)} "
          f"(median of {len(request_big)})")
    print(f"Status-change request, problem with no subscribers:       {ms(request_quiet)}")
    print(f"Fan-out job ({statistics.median(rows_made):,.0f} notifications, one INSERT ... SELECT): {ms(fan_outs)}")
    print(f"Delivery job ({args.subscribers // 3 + (1 if args.subscribers % 3 else 0):,} emails to a counting "
          f"sender): {ms(deliveries)}")
    print(f"Notifications in the database: {total:,}; emails handed to the sender: {sender.sent:,}.")
    if workdir:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
