"""Main pages at town scale: FixQuest beside the bare Flask endpoint, requests per second.

    python bench/pages_bench.py --redis-url redis://127.0.0.1:6379/8
    python bench/pages_bench.py --keep-data --rounds 3 --duration 10 --redis-url ...

Builds (once; --rebuild to start again) a PostgreSQL database `fixquest_pages_bench` with
100,000 problems, 10,000 participants, 1,000 quests (most made from a problem, most still
open, some closing within hours) and 30,000 approved claims paid through ledger rows, all
loaded by COPY, then indexed by the migrations and analysed; `flask scoring rebuild`
fills the Redis leaderboard projection when --redis-url is given.

Then it serves FixQuest (`app:create_app()`) and bench/bare_app.py with the same gunicorn
setup as serve_compare.py (sync workers, same count, 127.0.0.1 only), and loads the home,
problem list, map data (GeoJSON), quest list and leaderboard pages with wrk, interleaved:
each round measures every page on both servers, bare first in odd rounds and FixQuest
first in even ones, so drifting load on a shared machine falls on both sides. It reports
each page's medians and the ratio FixQuest / bare (the issue's target: at least 0.5).
wrk sends no cookie, so every request is a visitor's and may be answered from the visitor
page cache (pagecache.py); `--visitor-cache-seconds 0` turns it off, so every request runs
the whole page stack as a signed-in person's does. Results go in BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import io
import os
import platform
import random
import secrets
import shutil
import statistics
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path[:0] = [str(BENCH_DIR), str(REPO_DIR)]

from serve_compare import (HOST, describe, free_port, run_python_load, run_wrk, start_gunicorn,  # noqa: E402
                           stop, wait_until_serving, wrk_available)
from leaderboard_bench import ensure_postgres_database  # noqa: E402
from sqlalchemy import text  # noqa: E402

from config import DEFAULT_CATEGORIES as CATEGORIES  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/fixquest_pages_bench"
PAGES = ("/", "/problems", "/api/v1/problems.geojson", "/quests", "/leaderboards")
PROBLEMS, PARTICIPANTS, QUESTS, CLAIMS = 100_000, 10_000, 1_000, 30_000
SEED = 20261127
DUMMY_HASH = "pbkdf2:sha256:1000$bench$not-a-real-password-hash"  # nobody logs in as a generated user
STATUSES = ("open",) * 10 + ("confirmed",) * 3 + ("in_progress",) * 2 + ("fixed",) * 4 + ("closed",)
REASON = "bench: pages"


def check_url(url: str) -> None:
    parsed = make_url(url)
    if "bench" not in (parsed.database or ""):
        sys.exit(f"refusing {parsed.database!r}: the benchmark database's name must contain 'bench'")
    if (parsed.host or "127.0.0.1") not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"refusing host {parsed.host!r}: loopback addresses only")


def make_app(url: str, redis_url: str | None):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_url, "AUTO_MIGRATE": False,
                       "SECRET_KEY": "pages-benchmark-only-" + "x" * 32, "FIXQUEST_ENV": "development"})


def _line(values) -> str:
    return "\t".join(r"\N" if v is None else ("t" if v is True else "f" if v is False else
                                               v.isoformat() if isinstance(v, datetime) else str(v))
                     for v in values) + "\n"


def copy_into(cursor, table: str, columns: tuple[str, ...], rows) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for count, row in enumerate(rows, 1):
            buffer.write(_line(row))
            if count % 20_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    print(f"  {table}: {count:,} rows", flush=True)
    return count


def generate(now: datetime, rng: random.Random):
    """The rows of each table, as (table, columns, rows) in load order."""
    from challenges.geo import cell_of

    year = timedelta(days=365)
    users = [(1, "organiser@pages.bench.example", DUMMY_HASH, "Bench Organiser", "organiser", now - year)]
    users += [(n, f"p{n}@pages.bench.example", DUMMY_HASH, f"Player {n}", "participant", now - year)
              for n in range(2, PARTICIPANTS + 2)]
    problems = []
    for n in range(1, PROBLEMS + 1):
        lat, lon = 51.40 + rng.random() * 0.10, -2.65 + rng.random() * 0.12
        at = now - year * rng.random()
        problems.append((n, f"Problem {n}: {rng.choice(('broken', 'blocked', 'missing', 'dirty'))} "
                            f"{rng.choice(('bench', 'light', 'drain', 'sign', 'path'))}",
                         "Generated for the pages benchmark.", rng.choice(CATEGORIES), rng.choice(STATUSES),
                         lat, lon, f"{n} Bench Street", cell_of(lat, lon), rng.randint(2, PARTICIPANTS + 1), at, at))
    quests = []
    for n in range(1, QUESTS + 1):
        roll = rng.random()
        ends = (None if roll < 0.1 else now - timedelta(days=rng.uniform(1, 60)) if roll < 0.3
                else now + timedelta(hours=rng.uniform(1, 24 * 30)))
        quests.append((n, rng.randint(1, PROBLEMS) if n % 10 else None, f"Quest {n}: fix it together",
                       "Neighbours walk past this every day; fixing it makes the street safer.",
                       rng.choice((20, 30, 50, 75, 100)), rng.choice(("easy", "medium", "hard")), None, ends,
                       "solo", "A photo of the fix.", 1, now - timedelta(days=rng.uniform(60, 365))))
    claims, ledger, pairs = [], [], set()
    while len(claims) < CLAIMS:
        user_id, quest_id = rng.randint(2, PARTICIPANTS + 1), rng.randint(1, QUESTS)
        if (user_id, quest_id) in pairs:
            continue
        pairs.add((user_id, quest_id))
        n = len(claims) + 1
        decided = now - timedelta(days=rng.uniform(0, 360))
        claims.append((n, quest_id, user_id, "approved", "Done.", decided - timedelta(hours=30),
                       decided - timedelta(hours=6), decided))
        ledger.append((n, f"bench:claim:{n}", user_id, quests[quest_id - 1][4], REASON, n, "award", decided))
    return [
        ("users", ("id", "email", "password_hash", "display_name", "role", "created_at"), users),
        ("problems", ("id", "title", "description", "category", "status", "lat", "lon", "address", "cell",
                      "reporter_id", "created_at", "updated_at"), problems),
        ("quests", ("id", "problem_id", "title", "brief", "points", "difficulty", "starts_at", "ends_at", "mode",
                    "evidence_wanted", "created_by_id", "created_at"), quests),
        ("claims", ("id", "quest_id", "user_id", "status", "evidence", "created_at", "submitted_at", "decided_at"),
         claims),
        ("ledger_entries", ("id", "idempotency_key", "user_id", "amount", "reason", "claim_id", "kind", "created_at"),
         ledger),
    ]


def data_present(app) -> bool:
    from extensions import db

    with app.app_context(), db.engine.connect() as conn:
        if not conn.execute(text("SELECT to_regclass('problems')")).scalar():
            return False
        found = tuple(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                      for t in ("problems", "users", "quests", "claims"))
    return found == (PROBLEMS, PARTICIPANTS + 1, QUESTS, CLAIMS)


def build(app, url: str) -> None:
    """Empty the database, migrate it, COPY the rows in, set the sequences, analyse."""
    import psycopg

    from app import upgrade_database
    from extensions import db

    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.engine.dispose()
    upgrade_database(app)
    now = datetime.now(timezone.utc)
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as conn, conn.cursor() as cursor:
        for table, columns, rows in generate(now, random.Random(SEED)):
            copy_into(cursor, table, columns, rows)
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        today = now.date()
        cursor.execute("INSERT INTO seasons (name, starts_on, ends_on) VALUES (%s, %s, %s)",
                       ("This term", today - timedelta(days=60), today + timedelta(days=30)))
        conn.commit()
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("ANALYZE")


def rebuild_projection(app) -> None:
    result = app.test_cli_runner().invoke(args=["scoring", "rebuild"])
    print("  " + result.output.strip())


def measure(port: int, path: str, args, *, duration: int):
    if args.loadgen == "wrk":
        return run_wrk(f"http://{HOST}:{port}{path}", duration=duration, concurrency=args.concurrency,
                       threads=args.wrk_threads)
    return run_python_load(port, path, duration=duration, concurrency=args.concurrency)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-url", help="Redis for the leaderboard projection (default: none, SQL boards)")
    parser.add_argument("--keep-data", action="store_true", help="use the data already loaded, if complete")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--page", action="append", help="measure only these paths (repeatable)")
    parser.add_argument("--visitor-cache-seconds", type=int, default=None,
                        help="FIXQUEST_VISITOR_CACHE_SECONDS for FixQuest (default: the app's, 10; 0: off, "
                             "so every request runs the whole page stack, as a signed-in person's does)")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 30 or not 0 <= args.warmup <= 10 or not 1 <= args.rounds <= 5:
        parser.error("keep the run bounded: --duration 1..30, --warmup 0..10, --rounds 1..5")
    if args.loadgen == "auto":
        args.loadgen = "wrk" if wrk_available() else "python"
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    check_url(args.database_url)
    ensure_postgres_database(args.database_url)
    app = make_app(args.database_url, args.redis_url)
    if not (args.keep_data and data_present(app)):
        print(f"Building {make_url(args.database_url).database}: {PROBLEMS:,} problems, {PARTICIPANTS:,} "
              f"participants, {QUESTS:,} quests, {CLAIMS:,} approved claims")
        build(app, args.database_url)
    if args.redis_url:
        rebuild_projection(app)
    with app.app_context():
        from extensions import db
        db.engine.dispose()
    pages = tuple(args.page or PAGES)
    workdir = Path(tempfile.mkdtemp(prefix="fixquest-pages-bench-"))
    env = {**os.environ, "DATABASE_URL": args.database_url, "SECRET_KEY": secrets.token_urlsafe(48),
           "FIXQUEST_ENV": "development", "FIXQUEST_AUTO_MIGRATE": "0"}
    env.pop("REDIS_URL", None)
    if args.visitor_cache_seconds is not None:
        env["FIXQUEST_VISITOR_CACHE_SECONDS"] = str(args.visitor_cache_seconds)
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    servers = []
    failed = True
    try:
        bare_port, ours_port = free_port(), free_port()
        while ours_port == bare_port:
            ours_port = free_port()
        bare_log, ours_log = workdir / "bare.log", workdir / "ours.log"
        servers.append(start_gunicorn("bare_app:app", chdir=BENCH_DIR, port=bare_port, workers=args.workers,
                                      env=env, log=bare_log))
        servers.append(start_gunicorn("app:create_app()", chdir=REPO_DIR, port=ours_port, workers=args.workers,
                                      env=env, log=ours_log))
        wait_until_serving("bare", servers[0], bare_port, "/", bare_log)
        for page in pages:
            body = wait_until_serving("FixQuest", servers[1], ours_port, page, ours_log)
            print(f"  {page}: {len(body):,} bytes")
        print(f"Machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python "
              f"{platform.python_version()}; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"Load: {args.loadgen}, {args.concurrency} connections, {args.duration} s each, {args.rounds} rounds, "
              f"gunicorn {args.workers} sync workers per server; FixQuest's visitor page cache: "
              f"{env.get('FIXQUEST_VISITOR_CACHE_SECONDS', 'default (10 s)')}")
        if args.warmup:
            for page in pages:
                measure(bare_port, page, args, duration=args.warmup)
                measure(ours_port, page, args, duration=args.warmup)
        results = {page: {"bare": [], "ours": []} for page in pages}
        runs = []
        for n in range(1, args.rounds + 1):
            for page in pages:
                order = (("bare", bare_port), ("ours", ours_port))
                for name, port in (order if n % 2 else order[::-1]):
                    m = measure(port, page, args, duration=args.duration)
                    results[page][name].append(m.requests_per_s)
                    runs.append(m)
                    print(f"  round {n} {page:<26} {name:<4} {describe(m)}", flush=True)
        print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"\n| page | bare req/s | FixQuest req/s | ratio per round | median ratio |\n| --- | ---: | ---: | --- | ---: |")
        worst = 1.0
        for page in pages:
            bare, ours = results[page]["bare"], results[page]["ours"]
            ratios = [o / b for o, b in zip(ours, bare)]
            worst = min(worst, statistics.median(ratios))
            print(f"| `{page}` | {statistics.median(bare):.0f} | {statistics.median(ours):.0f} | "
                  f"{', '.join(f'{r:.2f}' for r in ratios)} | **{statistics.median(ratios):.2f}** |")
        print(f"\nlowest median ratio: {worst:.2f} (target 0.50)")
        failed = any(m.bad_status or m.errors for m in runs)
        for name, log in (("bare", bare_log), ("FixQuest", ours_log)):
            logged = log.read_text(errors="replace")
            if "Traceback" in logged or "[ERROR]" in logged:
                failed = True
                print(f"The {name} server logged errors (end of its log):\n{logged[-3000:]}")
        return 1 if failed else 0
    finally:
        for server in servers:
            stop(server)
        if failed:
            print(f"Logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
