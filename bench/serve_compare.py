"""Serve a bare Flask JSON endpoint and FixQuest side by side; compare requests per second.

    python bench/serve_compare.py                      # temp SQLite file, SQL leaderboard
    python bench/serve_compare.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/fixquest_bench \\
        --redis-url redis://127.0.0.1:6379/14          # PostgreSQL + Redis leaderboard

Both apps run under gunicorn the same way (sync workers, same count) on 127.0.0.1 only,
on two free ports. FixQuest gets a throwaway database loaded by `flask demo` (plus
`--extra-participants` generated players if asked). Then each server in turn gets the
same bounded load (fixed duration and concurrency) from wrk, or from the small Python
load generator below when wrk is not installed. Servers are stopped at the end, always.
See bench/README.md; results go in BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
HOST = "127.0.0.1"  # loopback only, on purpose: there is no option to change it
DEFAULT_PATH = "/api/v1/leaderboards/participants"
FAST_HASH = "pbkdf2:sha256:1000"  # for generated players only; demo accounts use the app's setting


@dataclass
class Measurement:
    requests_per_s: float
    requests: int
    bad_status: int
    errors: int
    tool: str


# --- load generators -----------------------------------------------------------------------

def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(url: str, *, duration: int, concurrency: int, threads: int) -> Measurement:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{duration}s", "--timeout", "5s", url],
        capture_output=True, text=True, timeout=duration + 30, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    # A sync gunicorn worker closes the connection after each response; wrk counts the
    # close as a read error and reconnects, so only connect/write/timeout errors count.
    errors = sum(int(sock.group(i)) for i in (1, 3, 4)) if sock else 0
    return Measurement(rate, total, int(bad.group(1)) if bad else 0, errors, "wrk")


def run_python_load(port: int, path: str, *, duration: int, concurrency: int) -> Measurement:
    """`concurrency` threads, each sending GETs back to back over one HTTP/1.1 connection
    (reopened whenever the server closes it) until the deadline."""
    deadline = time.monotonic() + duration
    tally = {"ok": 0, "bad": 0, "errors": 0}
    lock = threading.Lock()

    def worker() -> None:
        ok = bad = errors = 0
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        while time.monotonic() < deadline:
            try:
                conn.request("GET", path, headers={"Accept": "application/json"})
                response = conn.getresponse()
                response.read()
                if 200 <= response.status < 400:
                    ok += 1
                else:
                    bad += 1
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
        conn.close()
        with lock:
            tally["ok"] += ok
            tally["bad"] += bad
            tally["errors"] += errors

    started = time.monotonic()
    workers = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(duration + 10)
    elapsed = time.monotonic() - started
    done = tally["ok"] + tally["bad"]
    return Measurement(done / elapsed, done, tally["bad"], tally["errors"], "python")


def measure(port: int, path: str, args: argparse.Namespace, *, duration: int) -> Measurement:
    if args.loadgen == "wrk":
        return run_wrk(f"http://{HOST}:{port}{path}", duration=duration,
                       concurrency=args.concurrency, threads=args.wrk_threads)
    return run_python_load(port, path, duration=duration, concurrency=args.concurrency)


# --- the throwaway database ----------------------------------------------------------------

def check_disposable(database_url: str) -> None:
    """Refuse to wipe a database whose name does not say it is for benchmarks."""
    name = make_url(database_url).database or ""
    if "bench" not in Path(name).name:
        sys.exit(f"Refusing to wipe {name!r}: the benchmark empties its database, so its name must "
                 "contain 'bench' (e.g. fixquest_bench). Pass --keep-data to use it as it is.")


def prepare_database(database_url: str, redis_url: str | None, *, wipe: bool, extra: int) -> None:
    """Empty the database (if asked), migrate it, load the demo town and any generated
    players, and rebuild the Redis projection so it matches the ledger exactly."""
    sys.path.insert(0, str(REPO_DIR))
    from app import create_app, upgrade_database
    from extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url,
                      "AUTO_MIGRATE": False, "FIXQUEST_ENV": "development"})
    if wipe:
        with app.app_context():
            db.drop_all()
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            db.engine.dispose()
    upgrade_database(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    if result.exit_code != 0:
        sys.exit(f"flask demo failed:\n{result.output}")
    print("  " + "\n  ".join(result.output.split("\n\nDemo logins")[0].splitlines()))
    if extra:
        with app.app_context():
            add_generated_players(extra)
        print(f"  added {extra} generated players, one approved claim each")
    result = runner.invoke(args=["scoring", "rebuild"])
    print("  " + result.output.strip())
    with app.app_context():
        db.engine.dispose()


def add_generated_players(count: int) -> None:
    """More rows for the leaderboard to rank: `count` players who each completed one of
    a few generated solo quests, all through the services."""
    from accounts.services import create_user, user_by_email
    from challenges import reviews
    from challenges import services as challenges
    from extensions import db

    reviewer = user_by_email(db.session, "council.sam@demo.fixquest.example")
    quests = [challenges.create_quest(db.session, actor=reviewer, title=f"Bench quest {n}",
                                      brief="Generated for benchmarks.", points=points, difficulty="easy",
                                      mode="solo", evidence_wanted="Anything.")
              for n, points in enumerate((5, 10, 20, 40), start=1)]
    for n in range(count):
        player = create_user(db.session, email=f"bench.player{n}@bench.fixquest.example",
                             password="bench-player-passphrase", display_name=f"Bench Player {n}",
                             hash_method=FAST_HASH)
        claim = challenges.claim_quest(db.session, actor=player, quest=quests[n % len(quests)])
        challenges.submit_evidence(db.session, actor=player, claim=claim, evidence="Done.")
        reviews.review_claim(db.session, actor=reviewer, claim=claim, decision="approve")
        if n % 200 == 199:
            db.session.commit()
    db.session.commit()


# --- servers -------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_gunicorn(target: str, *, chdir: Path, port: int, workers: int, env: dict, log: Path) -> subprocess.Popen:
    """Start gunicorn in its own process group; its output and the app's logs go to `log`."""
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class", "sync",
               "--bind", f"{HOST}:{port}", "--chdir", str(chdir), "--log-level", "warning",
               "--error-logfile", "-", target]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)


def fetch(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until_serving(name: str, server: subprocess.Popen, port: int, path: str, log: Path) -> bytes:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"{name} server exited during start-up; its log:\n{log.read_text()}")
        try:
            status, body = fetch(port, path)
        except OSError:
            time.sleep(0.2)
            continue
        if status != 200:
            sys.exit(f"{name} answered {status} for {path}; the comparison needs a 200. "
                     f"Body: {body[:300]!r}")
        return body
    sys.exit(f"{name} did not answer on {HOST}:{port} within 30 s; its log:\n{log.read_text()}")


# --- the run -------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", default=DEFAULT_PATH, help=f"URL path to load (default {DEFAULT_PATH})")
    parser.add_argument("--database-url", help="FixQuest database (default: a temp SQLite file); "
                                               "its name must contain 'bench', as it is wiped")
    parser.add_argument("--redis-url", help="Redis for the leaderboard projection (default: none)")
    parser.add_argument("--keep-data", action="store_true",
                        help="do not wipe --database-url first (the demo load is idempotent)")
    parser.add_argument("--extra-participants", type=int, default=0, metavar="N",
                        help="add N generated players with one approved claim each (default 0)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers per server (default 2)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per measurement (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first (default 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="open connections (default 16)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure bare, ours, bare, ours ... this many times; report medians (default 1)")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto",
                        help="auto: wrk when installed, else the built-in Python generator")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    args = parser.parse_args(argv)
    if not args.path.startswith("/"):
        parser.error("--path must start with /")
    if not 1 <= args.duration <= 30 or not 0 <= args.warmup <= 10 or not 1 <= args.rounds <= 3:
        parser.error("keep the run bounded: --duration 1..30, --warmup 0..10, --rounds 1..3")
    if not 1 <= args.concurrency <= 256 or not 1 <= args.workers <= 16:
        parser.error("--concurrency 1..256 and --workers 1..16")
    if args.loadgen == "auto":
        args.loadgen = "wrk" if wrk_available() else "python"
    elif args.loadgen == "wrk" and not wrk_available():
        parser.error("wrk is not installed (apt-get install -y wrk), or use --loadgen python")
    return args


def describe(m: Measurement) -> str:
    problems = ""
    if m.bad_status or m.errors:
        problems = f"  ({m.bad_status} non-2xx, {m.errors} connection errors)"
    return f"{m.requests_per_s:9.1f} req/s  ({m.requests} requests){problems}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.database_url and not args.keep_data:
        check_disposable(args.database_url)
    workdir = Path(tempfile.mkdtemp(prefix="fixquest-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    backend = make_url(database_url).get_backend_name()
    print(f"FixQuest database: {backend}{' + Redis ' + args.redis_url if args.redis_url else ' (SQL leaderboard)'}")
    servers: list[subprocess.Popen] = []
    failed = True  # until the run completes cleanly; a failed run keeps its logs
    try:
        prepare_database(database_url, args.redis_url, wipe=not args.keep_data, extra=args.extra_participants)
        env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": secrets.token_urlsafe(48),
               "FIXQUEST_ENV": "development"}
        env.pop("REDIS_URL", None)
        if args.redis_url:
            env["REDIS_URL"] = args.redis_url
        bare_port, ours_port = free_port(), free_port()
        while ours_port == bare_port:
            ours_port = free_port()
        bare_log, ours_log = workdir / "bare.log", workdir / "ours.log"
        servers.append(start_gunicorn("bare_app:app", chdir=BENCH_DIR, port=bare_port, workers=args.workers,
                                      env=env, log=bare_log))
        servers.append(start_gunicorn("app:create_app()", chdir=REPO_DIR, port=ours_port, workers=args.workers,
                                      env=env, log=ours_log))
        bare_body = wait_until_serving("bare", servers[0], bare_port, args.path, bare_log)
        ours_body = wait_until_serving("FixQuest", servers[1], ours_port, args.path, ours_log)
        print(f"Serving on {HOST}: bare :{bare_port} ({len(bare_body)} B), FixQuest :{ours_port} "
              f"({len(ours_body)} B), gunicorn {args.workers} sync workers each")
        if args.path == DEFAULT_PATH:
            print(f"  FixQuest answered: {json.loads(ours_body)['entries'][:3]} ...")
        print(f"Load: {args.loadgen}, {args.concurrency} connections, {args.duration} s per measurement, "
              f"{args.rounds} round(s), GET {args.path}")
        if args.warmup:
            measure(bare_port, args.path, args, duration=args.warmup)
            measure(ours_port, args.path, args, duration=args.warmup)
        bare_runs, ours_runs = [], []
        for n in range(1, args.rounds + 1):
            bare_runs.append(measure(bare_port, args.path, args, duration=args.duration))
            print(f"  round {n} bare     {describe(bare_runs[-1])}")
            ours_runs.append(measure(ours_port, args.path, args, duration=args.duration))
            print(f"  round {n} FixQuest {describe(ours_runs[-1])}")
        bare = statistics.median(m.requests_per_s for m in bare_runs)
        ours = statistics.median(m.requests_per_s for m in ours_runs)
        print(f"\nbare Flask: {bare:.1f} req/s\nFixQuest:   {ours:.1f} req/s\n"
              f"ratio (FixQuest / bare): {ours / bare:.3f}")
        failed = any(m.bad_status or m.errors for m in bare_runs + ours_runs)
        if failed:
            print("Some requests failed.")
        for name, log in (("bare", bare_log), ("FixQuest", ours_log)):
            text = log.read_text(errors="replace")
            if "Traceback" in text or "[ERROR]" in text or "ERROR:" in text:
                failed = True
                print(f"The {name} server logged errors (end of its log):\n{text[-3000:]}")
        return 1 if failed else 0
    finally:
        for server in servers:
            stop(server)
        if failed:
            print(f"Logs and database kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
