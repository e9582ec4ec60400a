"""Leaderboards at scale: a million participants and ten million ledger rows.

    python bench/leaderboard_bench.py                  # build the data once (reused later), measure all
    python bench/leaderboard_bench.py --regenerate     # build the data again first
    python bench/leaderboard_bench.py --skip-serve     # only the award throughput
    python bench/leaderboard_bench.py --sqlite         # also a smaller SQLite file on the SQL leaderboard

The data (PostgreSQL `--database-url`, whose name must contain "bench" and whose host must
be a loopback address; created if missing): `--participants` users (1,000,000; one in 200
hidden from public boards), `--teams` teams (20,000) of 20 members each drawn from the
lowest user ids, and `--rows` ledger rows (10,000,000) spread evenly over the last 365 days
in id order. Every participant scores once; the other rows go to participants drawn with a
skew (the lowest ids score most), 20 % of team members' rows also credit their team. Two
seasons: one running (60 days ago to 30 days ahead) and one that ended 240 days ago. It is
loaded by COPY with the ledger's indexes dropped and foreign-key triggers off during the
load, then indexed and analysed; a later run reuses it unless the counts differ or
`--regenerate` is given (each run's award phase adds a few thousand real rows, which is fine).

Then, in order (each step can be skipped):

1. Redis (`--redis-url`, loopback only; db 14 by default, emptied only by --regenerate):
   `scoring rebuild` of every live window and team scope, timed, when the projection is
   not built yet or `--rebuild` is given.
2. Serving: gunicorn servers on 127.0.0.1 (sync workers, `--workers` each): the bare
   Flask app (bench/bare_app.py), FixQuest with REDIS_URL (Redis leaderboard), FixQuest
   without it (SQL leaderboard), FixQuest with the optional in-process top cache
   (RedisLeaderboard.top_cache_seconds = `--top-cache`, via app_with_top_cache below) and
   the ceiling probes (app_with_probes: the FixQuest app with a no-I/O route and a
   one-Redis-PING route). wrk loads each endpoint for `--duration` seconds after a warm-up:
   top-10 (`GET /api/v1/leaderboards/participants?window=all|week`) and
   rank-with-neighbours (`GET .../participants/around/<id>?window=all|week`, a random
   member of that window's board per request, from a sample of 2,000, via a wrk Lua
   script). Bare and the Redis servers run interleaved for `--rounds` rounds (medians
   reported). The SQL leaderboard, which aggregates the ledger on every request, is timed
   one request at a time (up to 10 requests or 30 s per endpoint).
3. Award throughput: `--award-workers` processes, each with its own app on PostgreSQL +
   Redis, approve `--awards` submitted claims between them through the service layer
   (challenges.reviews.review_claim, then commit, whose after-commit hook refreshes Redis),
   as fast as they can. The claims (by generated participants, on one new solo quest per
   worker, reviewed by one new organiser per worker) are made beforehand, untimed. Reports
   awards per second, latency percentiles, the time spent in the after-commit refresh, and
   checks Redis against SQL for the members touched.

Results go in BENCHMARKS.md ("Leaderboards at scale").
"""
from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import os
import platform
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))
sys.path.insert(0, str(BENCH_DIR))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import serve_compare as serving  # noqa: E402

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/fixquest_board_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
DEFAULT_SQLITE = os.path.join(tempfile.gettempdir(), "fixquest_board_bench.sqlite")
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
HOST = serving.HOST
SEED = 20261127
TEAM_SIZE = 20
HIDDEN_EVERY = 200
TEAM_SHARE = 0.20
AMOUNTS = (5, 10, 10, 20, 20, 30, 50, 75, 100)
GENERATED_REASON = "bench: generated"
DUMMY_HASH = "pbkdf2:sha256:1000$bench$not-a-real-password-hash"  # nobody logs in as a generated user
ADJECTIVES = ("Brave", "Quiet", "Tidy", "Sunny", "Swift", "Kind", "Bold", "Calm", "Keen", "Merry")
ANIMALS = ("Otter", "Heron", "Wren", "Kestrel", "Badger", "Puffin", "Swift", "Vole", "Hare", "Newt")
SQL_CONNECTIONS = 2  # the SQLite run's wrk connections for the SQL leaderboard


# --- safety ---------------------------------------------------------------------------------

def check_urls(database_url: str, redis_url: str) -> None:
    parsed = make_url(database_url)
    if "bench" not in (parsed.database or ""):
        sys.exit(f"refusing {parsed.database!r}: the benchmark database's name must contain 'bench'")
    if (parsed.host or "127.0.0.1") not in LOOPBACK:
        sys.exit(f"refusing host {parsed.host!r}: loopback addresses only")
    from urllib.parse import urlsplit

    redis_host = urlsplit(redis_url).hostname or "127.0.0.1"
    if redis_host not in LOOPBACK:
        sys.exit(f"refusing Redis host {redis_host!r}: loopback addresses only")
    if urlsplit(redis_url).path.strip("/") in ("", "0", "15"):
        sys.exit("refusing Redis db 0 or 15 (the default and the tests'): name another, e.g. /14")


def ensure_postgres_database(url: str) -> None:
    import psycopg

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{parsed.database}"')
            print(f"created database {parsed.database}")


def make_app(database_url: str, redis_url: str | None):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url, "AUTO_MIGRATE": False,
                       "SECRET_KEY": "leaderboard-benchmark-only-" + "x" * 32, "FIXQUEST_ENV": "development"})


# --- the data -------------------------------------------------------------------------------

def display_name(user_id: int) -> str:
    return f"{ADJECTIVES[user_id % 10]} {ANIMALS[user_id // 10 % 10]} {user_id}"


def team_of(user_id: int, teams: int) -> int | None:
    return (user_id - 1) // TEAM_SIZE + 1 if user_id <= teams * TEAM_SIZE else None


def users_rows(participants: int, created: datetime):
    for user_id in range(1, participants + 1):
        yield (user_id, f"p{user_id}@gen.bench.example", DUMMY_HASH, display_name(user_id), "participant",
               user_id % HIDDEN_EVERY == 0, created)


def ledger_rows(participants: int, rows: int, teams: int, now: datetime, seed: int):
    """(id, key, user_id, team_id, amount, reason, claim_id, kind, reverses_id, created_at),
    in time order over the last 365 days. Row i is someone's first when i*N//R steps up, so
    each of the N participants scores once; the others are skewed towards low ids."""
    rng = random.Random(seed)
    first_timers = list(range(1, participants + 1))
    rng.shuffle(first_timers)
    start, step = now - timedelta(days=365), timedelta(days=365) / rows
    for i in range(rows):
        first = (i + 1) * participants // rows - i * participants // rows
        user_id = first_timers[i * participants // rows] if first else 1 + int(participants * rng.random() ** 2)
        team = team_of(user_id, teams)
        team_id = team if team is not None and rng.random() < TEAM_SHARE else None
        yield (i + 1, f"bench:{i + 1}", user_id, team_id, rng.choice(AMOUNTS), GENERATED_REASON, None, "award",
               None, start + step * i)


def _copy_line(values) -> str:
    return "\t".join(r"\N" if v is None else ("t" if v is True else "f" if v is False else
                                               v.isoformat() if isinstance(v, datetime) else str(v))
                     for v in values) + "\n"


def copy_into(cursor, table: str, columns: tuple[str, ...], rows, *, report_every: int = 0) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for count, row in enumerate(rows, 1):
            buffer.write(_copy_line(row))
            if count % 50_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
                if report_every and count % report_every == 0:
                    print(f"    {table}: {count:,}", flush=True)
        copy.write(buffer.getvalue())
    return count


def data_present(app, participants: int, rows: int, teams: int) -> bool:
    from extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            if not conn.execute(text("SELECT to_regclass('ledger_entries')")).scalar():
                return False
            users = conn.execute(text("SELECT count(*) FROM users WHERE email LIKE '%@gen.bench.example'")).scalar()
            team_count = conn.execute(text("SELECT count(*) FROM teams WHERE name LIKE 'Bench team %'")).scalar()
            generated = conn.execute(text("SELECT count(*) FROM ledger_entries WHERE reason = :r"),
                                     {"r": GENERATED_REASON}).scalar()
    return (users, team_count, generated) == (participants, teams, rows)


def build_postgres(app, participants: int, rows: int, teams: int, seed: int) -> None:
    """Empty the database and load everything by COPY, then index and analyse."""
    from app import upgrade_database
    from extensions import db

    if teams * TEAM_SIZE > participants:
        sys.exit("--teams x 20 must not exceed --participants")
    started = time.perf_counter()
    upgrade_database(app)
    now = datetime.now(timezone.utc)
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        raw = db.engine.raw_connection()
        try:
            driver = raw.driver_connection
            with driver.cursor() as cur:
                cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
                indexes = cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'ledger_entries' "
                                      "AND indexname NOT IN (SELECT conname FROM pg_constraint)").fetchall()
                uniques = cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                                      "WHERE conrelid = 'ledger_entries'::regclass AND contype = 'u'").fetchall()
                for name, _ in indexes:
                    cur.execute(f'DROP INDEX "{name}"')
                for name, _ in uniques:
                    cur.execute(f'ALTER TABLE ledger_entries DROP CONSTRAINT "{name}"')
                cur.execute("SET session_replication_role = replica")  # no foreign-key triggers while loading
                copy_into(cur, "users", ("id", "email", "password_hash", "display_name", "role", "hidden_from_boards",
                                         "created_at"), users_rows(participants, now - timedelta(days=400)))
                copy_into(cur, "teams", ("id", "name", "join_code", "captain_id", "created_at"),
                          ((t, f"Bench team {t}", f"B{t:09d}", (t - 1) * TEAM_SIZE + 1, now - timedelta(days=399))
                           for t in range(1, teams + 1)))
                copy_into(cur, "team_memberships", ("id", "team_id", "user_id", "joined_at"),
                          ((u, team_of(u, teams), u, now - timedelta(days=399))
                           for u in range(1, teams * TEAM_SIZE + 1)))
                today = now.date()
                cur.execute("INSERT INTO seasons (name, starts_on, ends_on) VALUES (%s, %s, %s), (%s, %s, %s)",
                            ("Bench season (running)", today - timedelta(days=60), today + timedelta(days=30),
                             "Bench season (past)", today - timedelta(days=330), today - timedelta(days=240)))
                copy_into(cur, "ledger_entries", ("id", "idempotency_key", "user_id", "team_id", "amount", "reason",
                                                  "claim_id", "kind", "reverses_id", "created_at"),
                          ledger_rows(participants, rows, teams, now, seed), report_every=1_000_000)
                cur.execute("SET session_replication_role = DEFAULT")
                print(f"  copied in {time.perf_counter() - started:.0f} s; indexing", flush=True)
                for name, definition in uniques:
                    cur.execute(f'ALTER TABLE ledger_entries ADD CONSTRAINT "{name}" {definition}')
                for _, definition in indexes:
                    cur.execute(definition)
                for table, column in (("users", "id"), ("teams", "id"), ("team_memberships", "id"),
                                      ("ledger_entries", "id"), ("seasons", "id")):
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                                f"(SELECT max({column}) FROM {table}))")
            driver.commit()
            driver.autocommit = True
            with driver.cursor() as cur:
                for table in ("users", "teams", "team_memberships", "ledger_entries", "seasons"):
                    cur.execute(f"VACUUM ANALYZE {table}")
        finally:
            raw.close()
    print(f"  loaded {participants:,} participants, {teams:,} teams, {rows:,} ledger rows in "
          f"{time.perf_counter() - started:.0f} s")


def build_sqlite(path: str, participants: int, rows: int, teams: int, seed: int) -> str:
    """The same shape, smaller, in a SQLite file (executemany); reused if present."""
    import sqlite3

    url = "sqlite:///" + os.path.abspath(path)
    app = make_app(url, None)
    if os.path.exists(path) and data_present_sqlite(path, participants, rows):
        return url
    from app import upgrade_database

    if os.path.exists(path):
        os.remove(path)
    started = time.perf_counter()
    upgrade_database(app)
    now = datetime.now(timezone.utc)
    stamp = lambda value: value.strftime("%Y-%m-%d %H:%M:%S.%f")  # noqa: E731 - how SQLAlchemy stores them
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.executemany("INSERT INTO users (id, email, password_hash, display_name, role, hidden_from_boards, "
                         "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         ((*r[:6], stamp(r[6])) for r in users_rows(participants, now - timedelta(days=400))))
        conn.executemany("INSERT INTO teams (id, name, join_code, captain_id, created_at) VALUES (?, ?, ?, ?, ?)",
                         ((t, f"Bench team {t}", f"B{t:09d}", (t - 1) * TEAM_SIZE + 1, stamp(now))
                          for t in range(1, teams + 1)))
        conn.executemany("INSERT INTO team_memberships (id, team_id, user_id, joined_at) VALUES (?, ?, ?, ?)",
                         ((u, team_of(u, teams), u, stamp(now)) for u in range(1, teams * TEAM_SIZE + 1)))
        conn.executemany("INSERT INTO ledger_entries (id, idempotency_key, user_id, team_id, amount, reason, claim_id, "
                         "kind, reverses_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         ((*r[:9], stamp(r[9])) for r in ledger_rows(participants, rows, teams, now, seed)))
        conn.commit()
    finally:
        conn.close()
    print(f"  SQLite: loaded {participants:,} participants, {rows:,} ledger rows in "
          f"{time.perf_counter() - started:.0f} s ({path})")
    return url


def data_present_sqlite(path: str, participants: int, rows: int) -> bool:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        users = conn.execute("SELECT count(*) FROM users").fetchone()[0]
        generated = conn.execute("SELECT count(*) FROM ledger_entries WHERE reason = ?",
                                 (GENERATED_REASON,)).fetchone()[0]
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return (users, generated) == (participants, rows)


# --- the Redis projection -------------------------------------------------------------------

def ensure_projection(app, *, force: bool) -> None:
    from extensions import db

    with app.app_context():
        board = app.extensions["fixquest.leaderboard"]
        keys = [board.keys(b, w).ready for b in ("participants", "teams") for w in ("all", "week", "month")]
        if not force and all(board.client.exists(k) for k in keys):
            print("  Redis projection already built (--rebuild to time a rebuild)")
            return
        started = time.perf_counter()
        written = board.rebuild()
        elapsed = time.perf_counter() - started
        memory = board.client.info("memory")["used_memory_human"]
        print(f"  scoring rebuild: {written:,} standings in {elapsed:.0f} s "
              f"({', '.join(w.key for w in board.calendar.live())}; Redis now uses {memory})")
        db.session.remove()


def sample_members(app, window: str, count: int, seed: int) -> list[int]:
    """Random visible members of a window's board, for the around requests."""
    with app.app_context():
        board = app.extensions["fixquest.leaderboard"]
        members = board.client.zrandmember(board.keys("participants", window).public, count)
    rng = random.Random(seed)
    ids = sorted(int(m) for m in members)
    rng.shuffle(ids)
    return ids


# --- serving --------------------------------------------------------------------------------

def app_with_top_cache():
    """gunicorn target for the "Redis + top cache" server: the app as `app:create_app()`
    makes it, with RedisLeaderboard.top_cache_seconds set from BENCH_TOP_CACHE_SECONDS."""
    from app import create_app

    app = create_app()
    app.extensions["fixquest.leaderboard"].top_cache_seconds = float(os.environ["BENCH_TOP_CACHE_SECONDS"])
    return app


def app_with_probes():
    """gunicorn target for the ceiling probes: the FixQuest app (all its request hooks) plus
    two bench-only routes answering what bench/bare_app.py answers: one doing no I/O at all,
    one after a single Redis PING. They show the most any FixQuest endpoint can reach here,
    without and with one Redis round trip per request."""
    from app import create_app
    from bare_app import ENTRIES

    app = create_app()
    client = app.extensions["fixquest.redis"]

    def static():
        return {"entries": ENTRIES}

    def ping():
        client.ping()
        return {"entries": ENTRIES}

    app.add_url_rule("/api/v1/bench-static", "bench_static", static)
    app.add_url_rule("/api/v1/bench-ping", "bench_ping", ping)
    return app


def time_requests(port: int, paths: list[str], *, budget_s: float = 30.0, at_most: int = 10) -> list[float]:
    """Milliseconds per request, one request at a time, until `at_most` are done or the
    budget is spent (at least one): for the SQL leaderboard, whose all-time reads take seconds."""
    import http.client

    took, deadline = [], time.monotonic() + budget_s
    for n in range(at_most):
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        started = time.perf_counter()
        conn.request("GET", paths[n % len(paths)])
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status != 200:
            raise RuntimeError(f"{paths[n % len(paths)]} answered {response.status}")
        took.append((time.perf_counter() - started) * 1000)
        if time.monotonic() > deadline:
            break
    return took

def wrk_script(path_template: str, ids: list[int], folder: Path) -> Path:
    """A wrk Lua script asking for path_template % <a random id from ids> on each request."""
    script = folder / f"around-{abs(hash(path_template))}.lua"
    script.write_text("local ids = {" + ",".join(map(str, ids)) + "}\n"
                      "math.randomseed(7)\n"
                      "request = function()\n"
                      f"  return wrk.format(\"GET\", string.format(\"{path_template}\", ids[math.random(#ids)]))\n"
                      "end\n")
    return script


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * _UNITS[unit]


def run_wrk(port: int, path: str, *, script: Path | None, duration: int, connections: int, timeout: int = 5) -> dict:
    command = ["wrk", "-t2" if connections > 1 else "-t1", f"-c{connections}", f"-d{duration}s",
               "--timeout", f"{timeout}s", "--latency"]
    if script:
        command += ["-s", str(script)]
    out = subprocess.run(command + [f"http://{HOST}:{port}{path}"], capture_output=True, text=True,
                         timeout=duration + timeout + 30, check=True).stdout
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    latency = dict(re.findall(r"^\s+(50|90|99)%\s+([\d.]+\w+)", out, re.M))
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "bad": int(bad.group(1)) if bad else 0,
            "errors": sum(int(sock.group(i)) for i in (1, 3, 4)) if sock else 0,
            "p50": _ms(latency["50"]) if "50" in latency else None,
            "p99": _ms(latency["99"]) if "99" in latency else None}


def run_python(port: int, path: str, *, duration: int, connections: int) -> dict:
    m = serving.run_python_load(port, path, duration=duration, concurrency=connections)
    return {"rps": m.requests_per_s, "requests": m.requests, "bad": m.bad_status, "errors": m.errors,
            "p50": None, "p99": None}


def serve(args, workdir: Path, database_url: str, redis_url: str, ids: dict[str, list[int]]) -> list[dict]:
    """Bare, FixQuest + Redis and FixQuest on SQL under gunicorn; returns one row per endpoint."""
    use_wrk = shutil.which("wrk") is not None
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": secrets.token_urlsafe(48),
           "FIXQUEST_ENV": "development", "FIXQUEST_AUTO_MIGRATE": "0"}
    env.pop("REDIS_URL", None)
    endpoints = [("top-10, all-time", "/api/v1/leaderboards/participants?window=all", None),
                 ("top-10, this week", "/api/v1/leaderboards/participants?window=week", None),
                 ("rank +/- 2, all-time", "/api/v1/leaderboards/participants/around/%d?window=all", "all"),
                 ("rank +/- 2, this week", "/api/v1/leaderboards/participants/around/%d?window=week", "week")]
    servers, ports = [], {}
    try:
        targets = [("bare", "bare_app:app", BENCH_DIR, {}),
                   ("redis", "app:create_app()", REPO_DIR, {"REDIS_URL": redis_url}),
                   ("sql", "app:create_app()", REPO_DIR, {})]
        if args.top_cache:
            targets.append(("cached", "leaderboard_bench:app_with_top_cache()", BENCH_DIR,
                            {"REDIS_URL": redis_url, "BENCH_TOP_CACHE_SECONDS": str(args.top_cache)}))
        if args.probes:
            targets.append(("probes", "leaderboard_bench:app_with_probes()", BENCH_DIR, {"REDIS_URL": redis_url}))
        for name, target, chdir, extra in targets:
            port = serving.free_port()
            log = workdir / f"{name}.log"
            servers.append(serving.start_gunicorn(target, chdir=chdir, port=port, workers=args.workers,
                                                  env={**env, **extra}, log=log))
            serving.wait_until_serving(name, servers[-1], port, "/api/v1/leaderboards/teams?window=week", log)
            ports[name] = port
        print(f"  serving on {HOST}: " + ", ".join(f"{n} :{p}" for n, p in ports.items())
              + f"; gunicorn {args.workers} sync workers each; load: {'wrk' if use_wrk else 'python (no wrk)'}")
        results = []
        for label, template, sample in endpoints:
            script = wrk_script(template, ids[sample], workdir) if sample and use_wrk else None
            # With a script wrk takes each request's path from it; the python load generator
            # (no wrk) asks for one member's standing throughout.
            path = template if sample is None else template % ids[sample][0]

            def load(server: str, duration: int, connections: int = args.connections, timeout: int = 5) -> dict:
                if use_wrk:
                    return run_wrk(ports[server], path, script=script, duration=duration, connections=connections,
                                   timeout=timeout)
                return run_python(ports[server], path, duration=duration, connections=connections)

            cached = args.top_cache and sample is None  # the cache holds board pages, not members' ranks
            if args.warmup:
                for server in ("bare", "redis", "cached") if cached else ("bare", "redis"):
                    load(server, args.warmup)
            runs: dict[str, list[dict]] = {"bare": [], "redis": [], "cached": []}
            for _ in range(args.rounds):
                for server in ("bare", "redis", "cached") if cached else ("bare", "redis"):
                    runs[server].append(load(server, args.duration))
            sql = None
            if not args.skip_sql:
                paths = [template % member for member in ids[sample][:10]] if sample else [template]
                sql = time_requests(ports["sql"], paths)
            row = {"endpoint": label, "failed": sum(r["bad"] + r["errors"] for rs in runs.values() for r in rs),
                   "sql_ms": statistics.median(sql) if sql else None, "sql_n": len(sql or ())}
            for server, measured in runs.items():
                if measured:
                    row[server] = statistics.median(r["rps"] for r in measured)
                    row[server + "_p50"] = statistics.median(r["p50"] or 0 for r in measured)
                    row[server + "_p99"] = statistics.median(r["p99"] or 0 for r in measured)
                    row[server + "_rounds"] = [round(r["rps"]) for r in measured]
            results.append(row)
            print(f"  {label:22s} bare {row['bare']:7.0f} req/s | Redis {row['redis']:7.0f} req/s "
                  f"(ratio {row['redis'] / row['bare']:.3f}, p50 {row['redis_p50']:.2f} ms, "
                  f"p99 {row['redis_p99']:.2f} ms)"
                  + (f" | Redis + {args.top_cache:g} s top cache {row['cached']:7.0f} req/s "
                     f"(ratio {row['cached'] / row['bare']:.3f})" if "cached" in row else "")
                  + (f" | SQL {row['sql_ms']:.0f} ms per request, one at a time (median of {row['sql_n']})"
                     if sql else "")
                  + (f" | {row['failed']} failed" if row["failed"] else ""), flush=True)
            print("    rounds (req/s): " + "; ".join(f"{server} {row[server + '_rounds']}" for server in runs
                                                    if server + "_rounds" in row), flush=True)
        if args.probes:
            results.append(probe(args, ports, use_wrk))
        for name in ports:
            log = (workdir / f"{name}.log").read_text(errors="replace")
            if "Traceback" in log or "[ERROR]" in log:
                print(f"  the {name} server logged errors:\n{log[-2000:]}")
        return results
    finally:
        for server in servers:
            serving.stop(server)


def probe(args, ports: dict[str, int], use_wrk: bool) -> dict:
    """Bare against the FixQuest app's no-I/O route and its one-Redis-PING route."""
    def load(port: int, path: str, duration: int) -> dict:
        if use_wrk:
            return run_wrk(port, path, script=None, duration=duration, connections=args.connections)
        return run_python(port, path, duration=duration, connections=args.connections)

    plan = (("bare", ports["bare"], "/api/v1/bench-static"), ("static", ports["probes"], "/api/v1/bench-static"),
            ("ping", ports["probes"], "/api/v1/bench-ping"))
    if args.warmup:
        for _, port, path in plan:
            load(port, path, args.warmup)
    runs: dict[str, list[float]] = {name: [] for name, _, _ in plan}
    for _ in range(args.rounds):
        for name, port, path in plan:
            runs[name].append(load(port, path, args.duration)["rps"])
    row = {"endpoint": "ceiling probes", **{name: statistics.median(v) for name, v in runs.items()}}
    print(f"  {'ceiling probes':22s} bare {row['bare']:7.0f} req/s | FixQuest app, no I/O {row['static']:7.0f} req/s "
          f"(ratio {row['static'] / row['bare']:.3f}) | one Redis PING {row['ping']:7.0f} req/s "
          f"(ratio {row['ping'] / row['bare']:.3f})", flush=True)
    print("    rounds (req/s): " + "; ".join(f"{name} {[round(x) for x in v]}" for name, v in runs.items()), flush=True)
    return row


def serve_sqlite(args, workdir: Path, sqlite_url: str, ids: list[int]) -> None:
    """The SQL leaderboard on the smaller SQLite file, beside the bare app."""
    env = {**os.environ, "DATABASE_URL": sqlite_url, "SECRET_KEY": secrets.token_urlsafe(48),
           "FIXQUEST_ENV": "development", "FIXQUEST_AUTO_MIGRATE": "0"}
    env.pop("REDIS_URL", None)
    servers = []
    try:
        bare_port, sql_port = serving.free_port(), serving.free_port()
        logs = {"bare": workdir / "sqlite-bare.log", "sqlite": workdir / "sqlite.log"}
        servers.append(serving.start_gunicorn("bare_app:app", chdir=BENCH_DIR, port=bare_port, workers=args.workers,
                                              env=env, log=logs["bare"]))
        servers.append(serving.start_gunicorn("app:create_app()", chdir=REPO_DIR, port=sql_port,
                                              workers=args.workers, env=env, log=logs["sqlite"]))
        for name, server, port in (("bare", servers[0], bare_port), ("sqlite", servers[1], sql_port)):
            serving.wait_until_serving(name, server, port, "/api/v1/leaderboards/teams", logs[name])
        for label, path in (("top-10, all-time", "/api/v1/leaderboards/participants?window=all"),
                            ("top-10, this week", "/api/v1/leaderboards/participants?window=week"),
                            ("rank +/- 2, all-time", f"/api/v1/leaderboards/participants/around/{ids[0]}?window=all")):
            bare = run_wrk(bare_port, path, script=None, duration=args.duration, connections=args.connections)
            sql = run_wrk(sql_port, path, script=None, duration=args.duration, connections=SQL_CONNECTIONS, timeout=60)
            print(f"  SQLite {label:22s} bare {bare['rps']:7.0f} req/s | SQL {sql['rps']:8.2f} req/s with "
                  f"{SQL_CONNECTIONS} connections (p50 {sql['p50'] or 0:.1f} ms, {sql['bad']} non-2xx)", flush=True)
    finally:
        for server in servers:
            serving.stop(server)


# --- award throughput -----------------------------------------------------------------------

def prepare_awards(app, workers: int, awards: int, participants: int, teams: int) -> list[tuple[int, list[int]]]:
    """One organiser and one new solo quest per worker, and `awards` submitted claims by
    generated participants (half of them team members), untimed. Returns (reviewer id,
    claim ids) per worker."""
    from accounts import services as accounts
    from accounts.models import User
    from challenges import services as challenges
    from extensions import db

    run = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    rng = random.Random(run)
    in_teams = teams * TEAM_SIZE
    pool = rng.sample(range(1, in_teams + 1), awards // 2) + rng.sample(range(in_teams + 1, participants + 1),
                                                                       awards - awards // 2)
    plan = []
    with app.app_context():
        for w in range(workers):
            # A new organiser per run and worker: reviewing pays review points and evaluates the
            # reviewer's badges from all their reviews, so a reused one would slow run after run.
            reviewer = accounts.create_user(db.session, email=f"reviewer{w}.{run}@award.bench.example",
                                            password="benchmark only reviewer", display_name=f"Reviewer {w} {run}"[:40],
                                            role="organiser", hash_method="pbkdf2:sha256:1000")
            quest = challenges.create_quest(db.session, actor=reviewer, title=f"Award bench {run} #{w}",
                                            brief="Generated for the award benchmark.", points=10,
                                            difficulty="easy", mode="solo", evidence_wanted="Anything.")
            db.session.commit()
            claim_ids = []
            for n, user_id in enumerate(pool[w::workers]):
                player = db.session.get(User, user_id)
                claim = challenges.claim_quest(db.session, actor=player, quest=quest)
                challenges.submit_evidence(db.session, actor=player, claim=claim, evidence="Done.")
                claim_ids.append(claim.id)
                if n % 200 == 199:
                    db.session.commit()
            db.session.commit()
            plan.append((reviewer.id, claim_ids))
        db.session.remove()
    return plan


def award_worker(database_url: str, redis_url: str, reviewer_id: int, claim_ids: list[int], barrier, results) -> None:
    """In its own process: approve each claim and commit, timing each award end to end."""
    from accounts.models import User
    from challenges import reviews
    from challenges.models import Claim
    from extensions import db
    from scoring.rules import ScoringSettings

    app = make_app(database_url, redis_url)
    backend = app.extensions["fixquest.leaderboard"]
    refresh, spent = backend.refresh, []

    def timed_refresh(*a, **k):
        started = time.perf_counter()
        try:
            return refresh(*a, **k)
        finally:
            spent.append(time.perf_counter() - started)

    backend.refresh = timed_refresh
    latencies = []
    with app.app_context():
        settings = ScoringSettings.from_config(app.config)
        db.session.get(User, reviewer_id)
        barrier.wait()
        began = time.time()
        for claim_id in claim_ids:
            started = time.perf_counter()
            reviewer = db.session.get(User, reviewer_id)
            reviews.review_claim(db.session, actor=reviewer, claim=db.session.get(Claim, claim_id),
                                 decision="approve", settings=settings)
            db.session.commit()
            db.session.remove()  # as a request ends
            latencies.append(time.perf_counter() - started)
        ended = time.time()
    results.put({"began": began, "ended": ended, "latencies": latencies, "refresh": spent})


def award_throughput(args, database_url: str, redis_url: str) -> dict:
    app = make_app(database_url, redis_url)
    started = time.perf_counter()
    plan = prepare_awards(app, args.award_workers, args.awards, args.participants, args.teams)
    print(f"  prepared {args.awards:,} submitted claims for {args.award_workers} workers in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    context = mp.get_context("spawn")
    barrier, results = context.Barrier(args.award_workers), context.Queue()
    processes = [context.Process(target=award_worker,
                                 args=(database_url, redis_url, reviewer, claims, barrier, results))
                 for reviewer, claims in plan]
    for process in processes:
        process.start()
    reports = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    elapsed = max(r["ended"] for r in reports) - min(r["began"] for r in reports)
    latencies = sorted(x * 1000 for r in reports for x in r["latencies"])
    refresh = [x * 1000 for r in reports for x in r["refresh"]]
    done = len(latencies)
    summary = {"awards": done, "seconds": elapsed, "per_s": done / elapsed,
               "p50": latencies[len(latencies) // 2], "p95": latencies[int(len(latencies) * 0.95)],
               "p99": latencies[int(len(latencies) * 0.99)], "refresh_ms": statistics.mean(refresh)}
    print(f"  {done:,} awards in {elapsed:.1f} s = {summary['per_s']:.0f} awards/s with {args.award_workers} workers; "
          f"latency p50 {summary['p50']:.1f} ms, p95 {summary['p95']:.1f} ms, p99 {summary['p99']:.1f} ms; "
          f"after-commit Redis refresh {summary['refresh_ms']:.1f} ms on average", flush=True)
    check_touched(app, [c for _, claims in plan for c in claims])
    return summary


def check_touched(app, claim_ids: list[int]) -> None:
    """Redis must hold exactly the ledger's score for everyone the awards touched, in every
    live window (the per-member check `scoring verify` makes, for these members only: a full
    SQL ranking of ten million rows takes seconds per member)."""
    from challenges.models import Claim
    from extensions import db
    from scoring.leaderboards import _window_totals, encode_score
    from sqlalchemy import select

    with app.app_context():
        board = app.extensions["fixquest.leaderboard"]
        users = set(db.session.scalars(select(Claim.user_id).where(Claim.id.in_(claim_ids))).all())
        with db.engine.connect() as conn:
            live = board.calendar.live(conn)
            expected = _window_totals(conn, "participants", live, users)
        checks = [(user, window) for user in sorted(users) for window in live]
        with board.client.pipeline(transaction=False) as pipe:
            for user, window in checks:
                keys = board.keys("participants", window)
                pipe.zscore(keys.hidden if expected[user].hidden else keys.public, user)
            stored = pipe.execute()
        wrong = []
        for (user, window), score in zip(checks, stored):
            totals = expected[user].windows.get(window.key)
            if (None if totals is None else encode_score(*totals[:2])) != (None if score is None else int(score)):
                wrong.append((user, window.key))
        db.session.remove()
    print(f"  Redis agrees with the ledger for {len(checks) - len(wrong):,} of {len(checks):,} touched standings "
          f"({len(users):,} participants x {len(live)} live windows)" + (f"; differing: {wrong[:5]}" if wrong else ""))


# --- the run --------------------------------------------------------------------------------

def versions(database_url: str, redis_url: str) -> str:
    from importlib.metadata import version

    import psycopg
    import redis

    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    redis_version = redis.Redis.from_url(redis_url).info("server")["redis_version"]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0].strip() \
        if shutil.which("wrk") else "no wrk"
    return (f"nproc {os.cpu_count()}, {memory:.0f} GiB RAM, Linux {platform.release()}; Python "
            f"{platform.python_version()}, Flask {version('flask')}, SQLAlchemy {version('sqlalchemy')}, gunicorn "
            f"{version('gunicorn')}, redis-py {version('redis')}, psycopg {version('psycopg')}; PostgreSQL {pg}, "
            f"Redis {redis_version}; {wrk}")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--participants", type=int, default=1_000_000, choices=range(1000, 2_000_001),
                        metavar="1000..2000000")
    parser.add_argument("--rows", type=int, default=10_000_000, choices=range(1000, 20_000_001),
                        metavar="1000..20000000")
    parser.add_argument("--teams", type=int, default=20_000, choices=range(1, 100_001), metavar="1..100000")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--regenerate", action="store_true", help="rebuild the data (and empty the Redis db) first")
    parser.add_argument("--rebuild", action="store_true", help="time a Redis rebuild even if it is built")
    parser.add_argument("--skip-serve", action="store_true")
    parser.add_argument("--skip-sql", action="store_true", help="do not time the SQL leaderboard server")
    parser.add_argument("--no-probes", dest="probes", action="store_false",
                        help="skip the ceiling probes (the app's no-I/O and one-PING routes against bare)")
    parser.add_argument("--top-cache", type=float, default=1.0, metavar="SECONDS",
                        help="also serve with RedisLeaderboard.top_cache_seconds set to this (0: skip; default 1)")
    parser.add_argument("--skip-awards", action="store_true")
    parser.add_argument("--workers", type=int, default=2, choices=range(1, 17), metavar="1..16",
                        help="gunicorn sync workers per server (default 2)")
    parser.add_argument("--connections", type=int, default=16, choices=range(1, 257), metavar="1..256")
    parser.add_argument("--duration", type=int, default=10, choices=range(1, 31), metavar="1..30")
    parser.add_argument("--warmup", type=int, default=2, choices=range(0, 11), metavar="0..10")
    parser.add_argument("--rounds", type=int, default=3, choices=range(1, 4), metavar="1..3")
    parser.add_argument("--award-workers", type=int, default=4, choices=range(1, 17), metavar="1..16")
    parser.add_argument("--awards", type=int, default=2000, choices=range(10, 20_001), metavar="10..20000")
    parser.add_argument("--sqlite", action="store_true", help="also the SQL leaderboard on a SQLite file")
    parser.add_argument("--sqlite-path", default=DEFAULT_SQLITE)
    parser.add_argument("--sqlite-participants", type=int, default=100_000, choices=range(1000, 1_000_001),
                        metavar="1000..1000000")
    parser.add_argument("--sqlite-rows", type=int, default=1_000_000, choices=range(1000, 10_000_001),
                        metavar="1000..10000000")
    args = parser.parse_args(argv)
    if args.awards < args.award_workers:
        parser.error("--awards must be at least --award-workers")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    check_urls(args.database_url, args.redis_url)
    ensure_postgres_database(args.database_url)
    print(f"{versions(args.database_url, args.redis_url)}; {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", flush=True)
    app = make_app(args.database_url, args.redis_url)
    if args.regenerate or not data_present(app, args.participants, args.rows, args.teams):
        print("building the data (PostgreSQL COPY)", flush=True)
        app.extensions["fixquest.redis"].flushdb()
        build_postgres(app, args.participants, args.rows, args.teams, args.seed)
    else:
        print(f"reusing {args.participants:,} participants, {args.teams:,} teams and {args.rows:,} generated rows "
              f"in {make_url(args.database_url).database}")
    ensure_projection(app, force=args.rebuild)
    workdir = Path(tempfile.mkdtemp(prefix="fixquest-board-bench-"))
    try:
        if not args.skip_serve:
            ids = {w: sample_members(app, w, 2000, args.seed) for w in ("all", "week")}
            serve(args, workdir, args.database_url, args.redis_url, ids)
        if args.sqlite:
            teams = min(args.teams, args.sqlite_participants // TEAM_SIZE)
            url = build_sqlite(args.sqlite_path, args.sqlite_participants, args.sqlite_rows, teams, args.seed)
            serve_sqlite(args, workdir, url, [args.sqlite_participants // 2 + 1])
        if not args.skip_awards:
            award_throughput(args, args.database_url, args.redis_url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
