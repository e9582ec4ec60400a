"""Fault drill: FixQuest under bounded load while its services fail, on services of its own.

    python bench/drill.py            # the full drill (about three minutes)
    python bench/drill.py --short    # the CI step (about a minute)

It starts everything it breaks, on ports of its own, and stops only what it started:
  * PostgreSQL: `initdb` into a temporary folder (binaries from /usr/lib/postgresql/*/bin),
    listening on 127.0.0.1:55432 (run as the `postgres` user when the drill runs as root);
  * redis-server on 127.0.0.1:6390, without persistence (a restart loses everything in it);
  * an SMTP sink on 127.0.0.1:2590 that records every email it accepts;
  * gunicorn (gunicorn.conf.py, 2 workers) on 127.0.0.1:8390, and the notification worker
    (`flask notifications worker`).
The machine's own PostgreSQL (5432) and Redis (6379) are never touched.

Load: threads of participants report problems, an organiser makes quests of them, the
participants claim and submit, the organiser approves, and everyone reads pages, the
API and Open311, all through the HTTP API and pages on gunicorn. Meanwhile:
  1. Redis is stopped mid-traffic and started again (empty); then `flask scoring rebuild`
     and `flask scoring verify` run.
  2. PostgreSQL is restarted mid-traffic (fast shutdown: connections are cut).
  3. A batch of notification emails is published and the worker is killed (SIGKILL) in the
     middle of it, then started again.
It prints what it saw (requests, errors by kind and status, points in the ledger against the
leaderboard, emails expected against delivered, duplicates) and exits non-zero if anything
was lost or duplicated, if a 500 (or any 5xx outside the PostgreSQL restart) was seen, or if
the leaderboards drifted from the ledger.
"""
from __future__ import annotations

import argparse
import collections
import glob
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from email import message_from_bytes, policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_PORT, REDIS_PORT, WEB_PORT, SMTP_PORT = 55432, 6390, 8390, 2590
BASE = f"http://127.0.0.1:{WEB_PORT}"
PYTHON = sys.executable
VENV_BIN = Path(PYTHON).parent


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def wait_until(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not happen within {seconds:.0f} s")


# --- the SMTP sink -------------------------------------------------------------------------

class Sink:
    """Every email accepted, counted by Message-ID (what a mailbox keeps one of) and by
    recipient, subject and text without its links (which carry fresh signed tokens): the
    same email under two Message-IDs would be a real duplicate."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ids: collections.Counter = collections.Counter()
        self.contents: dict[tuple, set[str]] = collections.defaultdict(set)

    @property
    def accepted(self) -> int:
        with self.lock:
            return sum(self.ids.values())

    def record(self, data: bytes) -> None:
        message = message_from_bytes(data, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = re.sub(r"https?://\S+", "", body.get_content() if body is not None else "")
        content = (str(message["To"]), str(message["Subject"]), hashlib.sha256(text.encode()).hexdigest())
        with self.lock:
            self.ids[str(message["Message-ID"])] += 1
            self.contents[content].add(str(message["Message-ID"]))

    def resent(self) -> int:
        """Copies sent again under the same Message-ID (a worker died before recording them)."""
        return sum(n - 1 for n in self.ids.values() if n > 1)

    def duplicates(self) -> int:
        """The same email under different Message-IDs: sent twice as two messages."""
        return sum(len(ids) - 1 for ids in self.contents.values() if len(ids) > 1)


def smtp_handler(sink: Sink):
    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")
            self.wfile.flush()

        def handle(self):
            try:
                self.converse()
            except OSError:  # the worker was killed mid-conversation: nothing was accepted
                pass

        def converse(self):
            time.sleep(0.01)  # a mail server takes a moment: the batch is killable half-way
            self.reply("220 drill-sink ESMTP")
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                command = line.decode(errors="replace").strip().upper()
                if command.startswith(("EHLO", "HELO")):
                    self.reply("250 drill-sink")
                elif command.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                    self.reply("250 OK")
                elif command == "DATA":
                    self.reply("354 End with <CRLF>.<CRLF>")
                    chunks = []
                    while True:
                        chunk = self.rfile.readline()
                        if not chunk:
                            return  # cut off before the end of the message: not accepted
                        if chunk in (b".\r\n", b".\n"):
                            break
                        chunks.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                    sink.record(b"".join(chunks))
                    self.reply("250 Accepted")
                elif command == "QUIT":
                    self.reply("221 Bye")
                    return
                else:
                    self.reply("250 OK")

    return Handler


class SmtpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


# --- services of our own -------------------------------------------------------------------

class Services:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.pgdata = workdir / "pgdata"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.pg_bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
        self.redis: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.logs = {name: open(workdir / f"{name}.log", "ab") for name in ("redis", "web", "worker", "flask")}
        self.env = dict(os.environ)
        self.env.update({
            "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{PG_PORT}/drill",
            "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
            "SECRET_KEY": secrets.token_urlsafe(48), "FIXQUEST_ENV": "development",
            "RATELIMIT_ENABLED": "0",  # the load comes from one address; limits have their own tests
            "FIXQUEST_UNVERIFIED_REPORT_LIMIT": "0",
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(SMTP_PORT), "SMTP_USE_TLS": "0",
            "PUBLIC_URL": BASE, "NOTIFY_CLAIM_LEASE_SECONDS": "10",
            "GUNICORN_BIND": f"127.0.0.1:{WEB_PORT}", "GUNICORN_WORKERS": "2", "GUNICORN_THREADS": "16",
            "FIXQUEST_PHOTO_STORAGE_PATH": str(workdir / "photos"),
        })

    # PostgreSQL
    def pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_postgres, str(self.pg_bin / args[0]), *args[1:]], check=check,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd="/")

    def init_postgres(self) -> None:
        self.pgdata.mkdir()
        if self.as_postgres:
            os.chmod(self.workdir, 0o755)
            shutil.chown(self.pgdata, "postgres", "postgres")
        self.pg("initdb", "-D", str(self.pgdata), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        self.start_postgres()
        self.pg("psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-c", "CREATE DATABASE drill")

    def start_postgres(self) -> None:
        options = f"-p {PG_PORT} -k {self.pgdata} -c listen_addresses=127.0.0.1 -c max_connections=100"
        self.pg("pg_ctl", "-D", str(self.pgdata), "-l", str(self.pgdata / "server.log"), "-o", options, "-w", "start")

    def stop_postgres(self) -> None:
        self.pg("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop", check=False)

    # Redis
    def start_redis(self) -> None:
        self.redis = subprocess.Popen(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no"],
                                      stdout=self.logs["redis"], stderr=subprocess.STDOUT)
        wait_until(lambda: not port_free(REDIS_PORT), 10, "Redis starting")

    def stop_redis(self) -> None:
        if self.redis and self.redis.poll() is None:
            self.redis.send_signal(signal.SIGKILL)  # as a crash: nothing saved
            self.redis.wait(10)

    # the app
    def flask(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([PYTHON, "-m", "flask", "--app", "app", *args], cwd=ROOT, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def start_web(self) -> None:
        self.web = subprocess.Popen([str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py"], cwd=ROOT, env=self.env,
                                    stdout=self.logs["web"], stderr=subprocess.STDOUT)
        wait_until(lambda: urllib.request.urlopen(BASE + "/api/v1/problems", timeout=2).status == 200, 60,
                   "gunicorn answering")

    def start_worker(self) -> None:
        self.worker = subprocess.Popen([PYTHON, "-m", "flask", "--app", "app", "notifications", "worker",
                                        "--interval", "2"], cwd=ROOT, env=self.env,
                                       stdout=self.logs["worker"], stderr=subprocess.STDOUT)

    def kill_worker(self) -> None:
        if self.worker and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGKILL)
            self.worker.wait(10)

    def stop_all(self) -> None:
        for process in (self.web, self.worker):
            if process and process.poll() is None:
                process.terminate()
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.stop_redis()
        if self.pgdata.exists():
            self.pg("pg_ctl", "-D", str(self.pgdata), "-m", "immediate", "-w", "stop", check=False)


# --- load ----------------------------------------------------------------------------------

class Tally:
    """What the clients saw, by phase."""

    def __init__(self):
        self.lock = threading.Lock()
        self.phase = "warm-up"
        self.requests = 0
        self.by_status: collections.Counter = collections.Counter()  # (phase, kind, status)
        self.exceptions: collections.Counter = collections.Counter()  # (phase, kind, error)
        self.approved: dict[int, int] = {}  # claim id -> participant id, as the API answered

    def saw(self, kind: str, status: int | None, error: str | None = None) -> None:
        with self.lock:
            self.requests += 1
            if error:
                self.exceptions[(self.phase, kind, error)] += 1
            else:
                self.by_status[(self.phase, kind, status)] += 1


def call(tally: Tally, kind: str, method: str, path: str, *, token: str | None = None,
         body: dict | None = None) -> tuple[int | None, dict | None]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    except (urllib.error.URLError, OSError) as error:
        tally.saw(kind, None, type(getattr(error, "reason", error)).__name__)
        return None, None
    tally.saw(kind, status)
    try:
        return status, json.loads(raw) if raw and raw[:1] in (b"{", b"[") else None
    except ValueError:
        return status, None


def player_loop(tally: Tally, stop: threading.Event, n: int, player: dict, organiser_token: str) -> None:
    """One participant's day, over and over: report, (organiser) make a quest, claim, submit,
    (organiser) approve; then read some pages."""
    i = 0
    while not stop.is_set():
        i += 1
        lat, lon = 51.40 + (n * 0.013) + (i % 50) * 0.0004, -2.65 + (i // 50) * 0.0004
        status, problem = call(tally, "report", "POST", "/api/v1/problems", token=player["token"], body={
            "title": f"Drill {n}-{i}: loose paving", "description": "Found during the drill.",
            "category": "other", "lat": lat, "lon": lon})
        if status == 201:
            status, quest = call(tally, "quest", "POST", "/api/v1/quests", token=organiser_token, body={
                "title": f"Fix drill problem {n}-{i}", "brief": "Part of the fault drill.", "points": 10,
                "difficulty": "easy", "mode": "solo", "evidence_wanted": "A note.",
                "problem_id": problem["id"]})
            if status == 201:
                status, claim = call(tally, "claim", "POST", f"/api/v1/quests/{quest['id']}/claims",
                                     token=player["token"], body={})
                if status == 201:
                    status, _ = call(tally, "submit", "POST", f"/api/v1/claims/{claim['id']}/submit",
                                     token=player["token"], body={"evidence": "Done."})
                    if status == 200:
                        status, decided = call(tally, "approve", "POST", f"/api/v1/claims/{claim['id']}/review",
                                               token=organiser_token, body={"decision": "approve"})
                        if status == 200 and decided and decided.get("status") == "approved":
                            with tally.lock:
                                tally.approved[claim["id"]] = player["id"]
        for path in ("/", "/problems", "/leaderboards", "/api/v1/leaderboards/participants",
                     "/open311/v2/requests.json", "/api/v1/quests"):
            call(tally, "read", "GET", path, token=player["token"] if path.startswith("/api/") else None)
        stop.wait(0.05)


# --- the drill -----------------------------------------------------------------------------

def seed(services: Services, players: int, followers: int) -> dict:
    """People, tokens and a problem many people follow (for the notification batch), made
    through the services in this process against the drill's database."""
    os.environ.update(services.env)
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from accounts import services as accounts
    from challenges import services as challenges
    from challenges import tracker
    from extensions import db

    app = create_app({"AUTO_MIGRATE": True})
    with app.app_context():
        def person(name: str, role: str = "participant"):
            return accounts.create_user(db.session, email=f"{name.lower().replace(' ', '.')}@drill.example",
                                        password=secrets.token_urlsafe(12), display_name=name, role=role,
                                        hash_method="pbkdf2:sha256:1000", verified=True)

        organiser = person("Drill Organiser", "organiser")
        people = [person(f"Drill Player {n}") for n in range(players)]
        watchers = [person(f"Drill Watcher {n}") for n in range(followers)]
        db.session.flush()
        bulletin = challenges.report_problem(db.session, actor=organiser, title="Drill: the noticeboard",
                                             description="Updates for the drill.", category="other",
                                             lat=51.3, lon=-2.7, address=None, categories=app.config["CATEGORIES"])
        for watcher in watchers:
            tracker.subscribe(db.session, actor=watcher, problem=bulletin, delivery="immediate")
        tokens = {"organiser": accounts.issue_token(db.session, user=organiser, name="drill")}
        players_out = [{"id": p.id, "name": p.display_name, "token": accounts.issue_token(db.session, user=p,
                                                                                          name="drill")}
                       for p in people]
        db.session.commit()
        return {"app": app, "organiser_id": organiser.id, "organiser_token": tokens["organiser"],
                "players": players_out, "bulletin_id": bulletin.id, "followers": len(watchers)}


def publish_batch(world: dict, count: int, start: int) -> None:
    from challenges import services as challenges
    from challenges import tracker
    from accounts.models import User
    from extensions import db

    with world["app"].app_context():
        organiser = db.session.get(User, world["organiser_id"])
        problem = challenges.get_problem(db.session, world["bulletin_id"])
        for n in range(start, start + count):
            tracker.comment(db.session, actor=organiser, problem=problem, body=f"Drill update #{n}: all well.")
            db.session.commit()


def check_books(world: dict, tally: Tally) -> dict:
    """The ledger against what the clients saw and against the leaderboard."""
    from sqlalchemy import func, select

    from challenges.models import Claim
    from extensions import db
    from notifications.models import Notification
    from scoring.models import LedgerEntry

    with world["app"].app_context():
        db.engine.dispose()  # connections from before the restart
        awards = collections.Counter(dict(db.session.execute(
            select(LedgerEntry.claim_id, func.count()).where(LedgerEntry.kind == "award", LedgerEntry.user_id.isnot(None))
            .group_by(LedgerEntry.claim_id)).all()))
        approved = set(db.session.scalars(select(Claim.id).where(Claim.status == "approved",
                                                                 Claim.unpaid_reason.is_(None))))
        lost = sorted(claim_id for claim_id in tally.approved if claim_id not in approved or not awards[claim_id])
        unpaid = sorted(claim_id for claim_id in approved if not awards[claim_id])
        doubled = sorted(claim_id for claim_id, n in awards.items() if n > 1)
        paid_wrongly = sorted(claim_id for claim_id in awards if claim_id not in approved)
        ledger = dict(db.session.execute(select(LedgerEntry.user_id, func.sum(LedgerEntry.amount))
                                         .where(LedgerEntry.user_id.isnot(None)).group_by(LedgerEntry.user_id)).all())
        emails = dict(db.session.execute(select(Notification.state, func.count())
                                         .where(Notification.channel == "email").group_by(Notification.state)).all())
        return {"lost": lost, "unpaid": unpaid, "doubled": doubled, "paid_wrongly": paid_wrongly,
                "ledger_points": {int(k): int(v) for k, v in ledger.items()}, "emails": emails,
                "approved_in_db": len(approved)}


def board_points(tally: Tally, world: dict) -> dict[str, int]:
    status, body = call(tally, "final-read", "GET", "/api/v1/leaderboards/participants?limit=100",
                        token=world["organiser_token"])
    entries = (body or {}).get("entries", [])
    return {row["name"]: row["points"] for row in entries}


def run(short: bool) -> int:
    durations = dict(warm=5, redis_down=6, redis_back=4, pg_down=4, after=6) if short else \
        dict(warm=20, redis_down=15, redis_back=10, pg_down=8, after=15)
    players, followers, batch = (4, 15, 8) if short else (8, 30, 20)
    for port in (PG_PORT, REDIS_PORT, WEB_PORT, SMTP_PORT):
        if not port_free(port):
            print(f"drill: port {port} is in use; the drill needs it for its own services", file=sys.stderr)
            return 2
    workdir = Path(tempfile.mkdtemp(prefix="fixquest-drill-"))
    services = Services(workdir)
    sink = Sink()
    smtp = SmtpServer(("127.0.0.1", SMTP_PORT), smtp_handler(sink))
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    tally, stop, failures, notes = Tally(), threading.Event(), [], []
    started = time.monotonic()
    try:
        say(f"PostgreSQL {services.pg_bin.parent.name} on :{PG_PORT}, Redis on :{REDIS_PORT}, "
            f"SMTP sink on :{SMTP_PORT} (work folder {workdir})")
        services.init_postgres()
        services.start_redis()
        world = seed(services, players, followers)
        services.start_web()
        services.start_worker()
        say(f"gunicorn on {BASE}; {players} players, {followers} followers of the noticeboard")
        threads = [threading.Thread(target=player_loop, args=(tally, stop, n, player, world["organiser_token"]),
                                    daemon=True) for n, player in enumerate(world["players"])]
        for thread in threads:
            thread.start()
        time.sleep(durations["warm"])

        tally.phase = "redis-down"
        say("stopping Redis (SIGKILL) mid-traffic")
        services.stop_redis()
        time.sleep(durations["redis_down"])
        services.start_redis()
        tally.phase = "redis-back"
        say("Redis started again (empty)")
        time.sleep(durations["redis_back"])
        rebuilt = services.flask("scoring", "rebuild")
        say(f"flask scoring rebuild: {rebuilt.stdout.strip().splitlines()[-1] if rebuilt.stdout.strip() else ''}")

        tally.phase = "pg-restart"
        say("restarting PostgreSQL (fast shutdown) mid-traffic")
        services.stop_postgres()
        time.sleep(durations["pg_down"])
        services.start_postgres()
        say("PostgreSQL is back")
        time.sleep(2)  # requests already waiting may still see the outage
        tally.phase = "after"
        time.sleep(durations["after"])
        stop.set()
        for thread in threads:
            thread.join(60)
        say("load stopped")

        # The notification batch, and the worker killed half-way through it.
        with world["app"].app_context():
            from extensions import db
            db.engine.dispose()
        sent_before = sink.accepted
        expected_batch = batch * world["followers"]
        publish_batch(world, batch, 1)
        wait_until(lambda: sink.accepted - sent_before >= expected_batch // 3, 300, "a third of the batch sent")
        services.kill_worker()
        killed_at = sink.accepted - sent_before
        say(f"notification worker killed (SIGKILL) after {killed_at} of {expected_batch} emails of the batch")
        time.sleep(1)
        services.start_worker()
        say("notification worker started again")

        def all_sent() -> bool:
            emails = check_books(world, tally)["emails"]
            return all(state in ("sent", "failed") for state in emails) and emails.get("sent", 0) >= 1
        wait_until(all_sent, 300, "every email sent")
        time.sleep(1)

        verified = services.flask("scoring", "verify")
        books = check_books(world, tally)
        board = board_points(tally, world)
    except Exception as error:  # noqa: BLE001 - report and fail
        failures.append(f"the drill itself failed: {type(error).__name__}: {error}")
        books, board, verified = None, {}, None
    finally:
        stop.set()
        services.stop_all()
        smtp.shutdown()
        elapsed = time.monotonic() - started

    # --- what we saw ---
    print()
    print(f"== drill {'(short) ' if short else ''}finished in {elapsed:.0f} s: {tally.requests} requests")
    by_phase: dict = collections.defaultdict(collections.Counter)
    for (phase, kind, status), n in sorted(tally.by_status.items(), key=str):
        by_phase[phase][f"{kind} {status}"] += n
    for phase, counts in by_phase.items():
        print(f"  {phase:11} " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    for (phase, kind, error), n in sorted(tally.exceptions.items()):
        print(f"  {phase:11} {kind} {error}: {n} (no HTTP answer)")
        failures.append(f"{n} {kind} requests got no answer in {phase} ({error})")
    for (phase, kind, status), n in tally.by_status.items():
        if status is not None and status >= 500 and not (status == 503 and phase == "pg-restart"):
            failures.append(f"{n} x {status} on {kind} during {phase}")
    if books is not None:
        print(f"  claims approved (as the API answered): {len(tally.approved)}; approved in the database: "
              f"{books['approved_in_db']}")
        for name in ("lost", "unpaid", "doubled", "paid_wrongly"):
            if books[name]:
                failures.append(f"claims {name}: {books[name][:20]}")
        names = {p["id"]: p["name"] for p in world["players"]}
        names[world["organiser_id"]] = "Drill Organiser"
        ledger_total = sum(books["ledger_points"].get(uid, 0) for uid in names)
        board_total = sum(board.get(name, 0) for name in names.values())
        print(f"  points in the ledger: {ledger_total}; on the leaderboard (API, Redis): {board_total}")
        drift = {name: (books["ledger_points"].get(uid, 0), board.get(name, 0)) for uid, name in names.items()
                 if books["ledger_points"].get(uid, 0) != board.get(name, 0)}
        if drift:
            failures.append(f"leaderboard differs from the ledger (ledger, board): {drift}")
        print(f"  flask scoring verify: exit {verified.returncode}: "
              f"{verified.stdout.strip().splitlines()[-1] if verified.stdout.strip() else ''}")
        if verified.returncode != 0:
            failures.append("flask scoring verify found drift")
        emails = books["emails"]
        duplicates, resent = sink.duplicates(), sink.resent()
        print(f"  emails: {sum(emails.values())} made, {emails.get('sent', 0)} marked sent, "
              f"{emails.get('failed', 0)} failed; the SMTP sink accepted {sink.accepted}: {len(sink.ids)} "
              f"different messages, {resent} sent again under the same Message-ID after the kill (a mailbox "
              f"keeps one), {duplicates} duplicates")
        if emails.get("sent", 0) != len(sink.ids) or set(emails) - {"sent"}:
            failures.append(f"emails: {emails} in the database, {len(sink.ids)} different messages delivered")
        if duplicates:
            failures.append(f"{duplicates} emails delivered twice as different messages")
    if failures:
        print("FAILED:")
        for failure in failures:
            print(f"  - {failure}")
        print(f"  logs kept in {workdir}")
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    print("OK: nothing lost, nothing duplicated, no 500, leaderboards match the ledger.")
    return 0


def _terminated(signum, frame):
    raise SystemExit(128 + signum)  # through run()'s finally: everything the drill started is stopped


def main() -> int:
    signal.signal(signal.SIGTERM, _terminated)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the short CI drill (about a minute)")
    return run(parser.parse_args().short)


if __name__ == "__main__":
    sys.exit(main())
