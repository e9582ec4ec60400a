"""A thousand live viewers: how long an approval takes to reach every open stream.

    python bench/sse_bench.py                                  # temp SQLite, in-process hub, 1 worker
    python bench/sse_bench.py --workers 2 --redis-url redis://127.0.0.1:6379/14
                                                               # 2 workers sharing Redis pub/sub
    python bench/sse_bench.py --clients 20 --rounds 2          # a quick look

Serves FixQuest under gunicorn with gunicorn.conf.py (gthread workers; `--workers`, and
`--threads` per worker, by default enough for every client in any one worker), through
`bench_app()` below: the real app plus
* a stream, GET /bench/live, on the topic "bench:approvals", whose state is the number of
  approved claims and `at`, the server's clock when the state was built, which is right
  after the approval's commit (live.publish builds after the commit), and
* a hook on challenges.reviews.review_claim that publishes that state when a claim is
  approved: a stand-in for the event scoreboard's publish, which lives in events/.

The database (a temp SQLite file, or a `--database-url` whose name contains "bench",
created if missing and emptied first) gets an organiser and `--rounds` participants, each with a submitted claim.
`--clients` SSE clients (asyncio, raw sockets, in this process) open /bench/live and read
their first state. Then, each round, the organiser approves one claim through the real
web route (POST /claims/<id>/review, logged in, with CSRF), and every client notes when
the new count reaches it. Latency = the client's clock at receipt minus `at`; both run on
this machine, so they share a clock. The clients' own parsing on the same two cores is
included in the figures: they are an upper bound. Loopback only.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))

TOPIC = "bench:approvals"
PASSWORD = "bench passphrase, long enough"


# --- what gunicorn serves -------------------------------------------------------------------

def approvals_state(session) -> dict:
    from sqlalchemy import func, select

    from challenges.models import Claim

    approved = session.scalar(select(func.count(Claim.id)).where(Claim.status == "approved"))
    return {"approved": approved, "at": time.time()}


def bench_app():
    """The app with the bench stream and the publishing hook (see the module docstring)."""
    from flask import request

    import live
    from app import create_app
    from challenges import reviews

    app = create_app()
    review_claim = reviews.review_claim

    def review_and_publish(session, **kwargs):
        claim = review_claim(session, **kwargs)
        if claim.status == "approved":
            live.publish(session, TOPIC, "state", approvals_state)
        return claim

    reviews.review_claim = review_and_publish

    @app.get("/bench/live")
    def bench_live():
        return live.stream(TOPIC, "state", approvals_state)

    @app.after_request
    def name_the_worker(response):
        if request.path == "/bench/live":
            response.headers["X-Worker"] = str(os.getpid())
        return response

    return app


# --- setting up -----------------------------------------------------------------------------

def create_database_if_missing(database_url: str) -> None:
    """A PostgreSQL bench database is created on first use (the app then migrates it)."""
    import psycopg

    url = urlsplit(database_url.replace("postgresql+psycopg://", "postgresql://", 1))
    name = url.path.lstrip("/")
    with psycopg.connect(url._replace(path="/postgres").geturl(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(database_url: str, rounds: int) -> tuple[str, list[int]]:
    """An organiser and one submitted claim per round; returns the organiser's email and the claim ids."""
    from sqlalchemy import text

    from app import create_app
    from extensions import db
    from tests import factories

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": None, "RATELIMIT_ENABLED": False})
    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    conn.execute(text(f"DELETE FROM {name}"))
        organiser = factories.make_organiser(email="organiser@bench.example", password=PASSWORD)
        quest = factories.make_quest(organiser, title="Live bench quest")
        claims = [factories.make_claim(factories.make_user(), quest, submit=True).id for _ in range(rounds)]
        email = organiser.email
        db.session.remove()
    return email, claims


def start_server(args, database_url: str, port: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=database_url, FIXQUEST_AUTO_MIGRATE="0", RATELIMIT_ENABLED="0",
               SECRET_KEY="bench-secret-" + "x" * 40, GUNICORN_BIND=f"127.0.0.1:{port}",
               GUNICORN_WORKERS=str(args.workers), GUNICORN_THREADS=str(args.threads),
               FIXQUEST_LIVE_MAX_STREAMS=str(args.threads))
    env.pop("REDIS_URL", None)
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--log-level", "warning",
                               "bench.sse_bench:bench_app()"], cwd=REPO_DIR, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def log_in(base: str, email: str):
    import requests

    http = requests.Session()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', http.get(f"{base}/login").text).group(1)
    answer = http.post(f"{base}/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                       allow_redirects=False)
    assert answer.status_code == 302, f"login failed: {answer.status_code}"
    return http


def approve(http, base: str, claim_id: int) -> None:
    page = http.get(f"{base}/claims/{claim_id}").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    answer = http.post(f"{base}/claims/{claim_id}/review", data={"decision": "approve", "csrf_token": token},
                       allow_redirects=False)
    assert answer.status_code == 302, f"approval failed: {answer.status_code}"


# --- the clients ----------------------------------------------------------------------------

class Client:
    def __init__(self):
        self.received: dict[int, float] = {}  # approved count -> receipt time (time.time())
        self.built_at: dict[int, float] = {}
        self.worker = ""
        self.ready = asyncio.Event()
        self.error = ""

    async def run(self, port: int) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        except OSError as exc:
            self.error = f"connect: {exc}"
            self.ready.set()
            return
        writer.write(b"GET /bench/live HTTP/1.0\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")
        await writer.drain()
        status = await reader.readline()
        if b" 200 " not in status:
            self.error = status.decode().strip()
            self.ready.set()
            return
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"x-worker:"):
                self.worker = line.split(b":", 1)[1].strip().decode()
        while line := await reader.readline():
            if line.startswith(b"data: "):
                now = time.time()
                state = json.loads(line[6:])
                self.received.setdefault(state["approved"], now)
                self.built_at.setdefault(state["approved"], state["at"])
                self.ready.set()
        self.error = self.error or "stream ended"
        self.ready.set()


def rss_mib(pid: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return -1


def pg_connections(args) -> dict[str, int]:
    """The server's connections by state ('idle' ones wait in the pools; 'active' or 'idle in
    transaction' would be held by a request)."""
    import psycopg

    url = args.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT state, count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND pid <> pg_backend_pid() GROUP BY state").fetchall()
    return {state or "none": count for state, count in rows}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(pct / 100 * len(ordered))) - 1))]


async def measure(args, port: int, email: str, claims: list[int]) -> list[dict]:
    base = f"http://127.0.0.1:{port}"
    clients = [Client() for _ in range(args.clients)]
    tasks = []
    started = time.monotonic()
    for i, client in enumerate(clients):
        tasks.append(asyncio.create_task(client.run(port)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)  # do not flood the accept queue all at once
    await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in clients)), 120)
    failed = [c.error for c in clients if c.error]
    workers = sorted({c.worker for c in clients if c.worker})
    spread = {w: sum(c.worker == w for c in clients) for w in workers}
    print(f"{args.clients} clients connected in {time.monotonic() - started:.1f} s; "
          f"{len(failed)} failed {failed[:3]}; per worker: {list(spread.values())}")
    print("worker memory (RSS) with the streams open: " + ", ".join(f"{rss_mib(w)} MiB" for w in workers))
    if args.database_url and args.database_url.startswith("postgresql"):
        print(f"PostgreSQL connections to the bench database while the streams wait: {pg_connections(args)}")
    loop = asyncio.get_running_loop()
    http = await loop.run_in_executor(None, log_in, base, email)
    results = []
    for number, claim_id in enumerate(claims, start=1):
        await asyncio.sleep(args.pause)
        await loop.run_in_executor(None, approve, http, base, claim_id)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(number in c.received for c in clients if not c.error):
            await asyncio.sleep(0.05)
        latencies = [c.received[number] - c.built_at[number] for c in clients if number in c.received]
        got = len(latencies)
        within = sum(latency <= 1.0 for latency in latencies)
        result = {"round": number, "received": got, "within_1s": within,
                  "p50": percentile(latencies, 50) if latencies else None,
                  "p99": percentile(latencies, 99) if latencies else None,
                  "max": max(latencies) if latencies else None}
        results.append(result)
        print(f"round {number}: {got}/{args.clients} received, {within} within 1 s; p50 {_ms(result['p50'])}, "
              f"p99 {_ms(result['p99'])}, max {_ms(result['max'])}")
    for task in tasks:
        task.cancel()
    return results


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, help="gunicorn threads per worker (default: clients + 64)")
    parser.add_argument("--database-url", help="an emptied throwaway database whose name contains 'bench'")
    parser.add_argument("--redis-url", help="share events through Redis pub/sub (needed for --workers > 1)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between approvals")
    args = parser.parse_args(argv)
    args.threads = args.threads or args.clients + 64
    if args.workers > 1 and not args.redis_url:
        parser.error("several workers share events only through Redis: give --redis-url")
    if args.database_url and "bench" not in args.database_url.rsplit("/", 1)[-1]:
        parser.error("--database-url must name a database containing 'bench' (it is emptied)")
    for url in filter(None, (args.database_url, args.redis_url)):
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            parser.error(f"loopback only: {url}")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/sse-bench.db"
        if args.redis_url:
            import redis

            redis.Redis.from_url(args.redis_url).delete(f"live:{TOPIC}:seq", f"live:{TOPIC}:log")
        if database_url.startswith("postgresql"):
            create_database_if_missing(database_url)
        email, claims = seed(database_url, args.rounds)
        server = start_server(args, database_url, args.port)
        try:
            results = asyncio.run(measure(args, args.port, email, claims))
        finally:
            stop_server(server)
    p99s = [r["p99"] for r in results if r["p99"] is not None]
    print(json.dumps({"clients": args.clients, "workers": args.workers, "threads": args.threads,
                      "redis": bool(args.redis_url), "database": database_url.split(":", 1)[0],
                      "rounds": results,
                      "median_p99_ms": round(statistics.median(p99s) * 1000) if p99s else None}, indent=1))


if __name__ == "__main__":
    main()
