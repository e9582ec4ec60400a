"""Peak memory of the streamed open data export (GET /data/problems.csv) at two sizes.

    python bench/export_bench.py                  # 100,000 and 1,000,000 problems, SQLite
    python bench/export_bench.py --rows 200000    # 20,000 and 200,000
    python bench/export_bench.py --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/fixquest_bench

The question: does the export's memory grow with the number of problems? Each size runs in
a fresh Python process (so `ru_maxrss`, the process's peak resident set, belongs to that run
alone) that builds the app, reads its resident size, then streams the whole CSV through the
Flask test client chunk by chunk (never holding the body; it counts bytes and rows) and
reads the peak. The difference, peak minus the size before the export, is what the export
cost. A control run at the larger size keeps every chunk it receives (as a loaded export
would hold the whole file), to show the measurement sees growth when there is some.

The data: `--rows` problems (and a tenth as many for the small run) bulk-inserted into a
scratch database by executemany, with one reporter; kept between runs in the temp folder
(SQLite, `fixquest-export-<rows>.db`) and rebuilt when it holds a different count. A
PostgreSQL database must have "bench" in its name and is emptied and reloaded per size.
Results go in BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BATCH = 20_000


def _rss_mb() -> float:
    """The peak resident set so far, MiB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _app(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "RATELIMIT_ENABLED": False,
                       "SECRET_KEY": "bench-secret-key-that-is-long-enough-0000", "PHOTO_STORAGE": "memory"})


def _count(app) -> int:
    from sqlalchemy import func, select

    from challenges.models import Problem
    from extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Problem))


def seed(url: str, rows: int) -> None:
    """`rows` problems and one reporter, unless the database already holds exactly that."""
    from sqlalchemy import delete, insert

    from accounts import services as accounts
    from accounts.models import User
    from challenges.geo import cell_of
    from challenges.models import Problem, ProblemUpdate
    from extensions import db

    app = _app(url)
    if _count(app) == rows:
        return
    rng = random.Random(7)
    started = time.perf_counter()
    with app.app_context():
        db.session.execute(delete(ProblemUpdate))
        db.session.execute(delete(Problem))
        reporter = db.session.scalar(db.select(User).limit(1)) or accounts.create_user(
            db.session, email="bench@example.org", password="a long bench password", display_name="Bench",
            role="participant", hash_method="pbkdf2:sha256:1000", verified=True)
        db.session.commit()
        base = datetime(2024, 1, 1, tzinfo=timezone.utc)
        categories = ("pothole", "litter", "fly-tipping", "graffiti", "street lighting", "other")
        for start in range(0, rows, BATCH):
            batch = []
            for n in range(start, min(rows, start + BATCH)):
                lat, lon = 51.45 + rng.uniform(-0.1, 0.1), -2.59 + rng.uniform(-0.15, 0.15)
                when = base + timedelta(minutes=n)
                batch.append({"title": f"Problem {n} on =Broad Street", "description": "Bench row.",
                              "category": rng.choice(categories), "status": "open", "lat": lat, "lon": lon,
                              "address": None, "cell": cell_of(lat, lon), "reporter_id": reporter.id,
                              "confirmations_count": 0, "subscribers_count": 0, "created_at": when,
                              "updated_at": when})
            db.session.execute(insert(Problem), batch)
            db.session.commit()
    print(f"  seeded {rows:,} problems in {time.perf_counter() - started:.0f} s", flush=True)


def measure(url: str, *, hold: bool = False) -> None:
    """Stream the CSV; print rows, bytes, seconds, RSS before, peak RSS. With `hold`, keep
    the whole body in memory as it arrives (the control: what a loaded export would cost)."""
    app = _app(url)
    client = app.test_client()
    client.get("/data")  # warm: templates, the first queries
    before = _current_rss_mb()
    started = time.perf_counter()
    response = client.get("/data/problems.csv", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    size = lines = 0
    held = []
    for chunk in response.response:
        size += len(chunk)
        if hold:
            held.append(chunk)
        lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    response.close()
    print(f"RESULT {lines - 1} {size} {time.perf_counter() - started:.1f} {before:.1f} {_rss_mb():.1f}", flush=True)


def _scratch_url(rows: int, postgres_url: str | None) -> str:
    if postgres_url:
        return postgres_url
    return "sqlite:///" + os.path.join(tempfile.gettempdir(), f"fixquest-export-{rows}.db")


def _run(mode: str, url: str, rows: int, *extra: str) -> str:
    out = subprocess.run([sys.executable, os.path.abspath(__file__), f"--{mode}", "--url", url, "--rows", str(rows),
                          *extra],
                         check=True, capture_output=True, text=True)
    return out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres-url")
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--hold", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-control", action="store_true",
                        help="skip the control run that keeps the body in memory at the larger size")
    args = parser.parse_args()
    if args.seed:
        return seed(args.url, args.rows)
    if args.measure:
        return measure(args.url, hold=args.hold)
    if args.postgres_url and "bench" not in args.postgres_url.rsplit("/", 1)[-1]:
        parser.error("the PostgreSQL database's name must contain 'bench' (it is emptied)")
    print(f"{'run':>9} {'problems':>10} {'rows out':>10} {'MB out':>8} {'seconds':>8} {'RSS before':>11} "
          f"{'peak RSS':>9} {'growth':>7}")
    runs = [(args.rows // 10, False), (args.rows, False)] + ([] if args.no_control else [(args.rows, True)])
    for rows, hold in runs:
        url = _scratch_url(rows, args.postgres_url)
        print(_run("seed", url, rows), end="", file=sys.stderr)
        _, out_rows, size, seconds, before, peak = _run("measure", url, rows, *(["--hold"] if hold else [])).split()
        print(f"{'held' if hold else 'streamed':>9} {rows:>10,} {int(out_rows):>10,} {int(size) / 1e6:>8.1f} "
              f"{seconds:>8} {before:>10} M {peak:>8} M {float(peak) - float(before):>6.1f} M", flush=True)


if __name__ == "__main__":
    main()
