"""Live updates: publish a topic's new state after commit; stream it as Server-Sent Events.

Publishers (events' scoreboards, campaigns' progress, notifications) call
`publish(session, topic, name, build)` inside their transaction. After the commit,
`build(session)` runs once, on a fresh session of its own (the committed one can emit no
more SQL), and its dict goes to every stream on the topic; after a rollback nothing is
sent. An event carries the whole new state, so a client that misses one is right again at
the next. Publishing never fails the request: the rows are committed whatever Redis does.

Views serve a topic with `stream(topic, name, snapshot)`: the first event is the state now
(`snapshot(db.session)`, read before streaming starts; the same function can serve as the
publisher's `build`), then each published event, a keepalive comment about every 15
seconds, and `id:` lines so a reconnecting browser's Last-Event-ID resumes where it left
off. The database session is released before the first byte: an idle stream holds no
database connection. When the hub says events may have been lost (Redis came back after
an outage), the stream takes a fresh snapshot, in a short-lived session of its own.

A stream occupies a server thread for its whole life, so it needs a worker class that
holds many (gunicorn.conf.py: gthread); LIVE_MAX_STREAMS caps them per process (503 with
Retry-After beyond it, so page requests keep threads), and LIVE_STREAM_MAX_SECONDS ends a
stream after a while (the browser reconnects with Last-Event-ID and misses nothing).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import partial
from weakref import WeakKeyDictionary

from flask import Flask, Response, current_app, request
from sqlalchemy.orm import Session

import aftercommit
from extensions import db
from live.hub import Hub, LiveEvent, LocalHub, RedisHub, listener_client

log = logging.getLogger(__name__)

KEY = "live.publish"
KEEPALIVE_SECONDS = 15.0
RETRY_MS = 3000


class StreamSlots:
    """How many streams this process may hold at once (0: no limit)."""

    def __init__(self, limit: int = 0):
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.limit and self.open >= self.limit:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open -= 1


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    if url:
        app.extensions["fixquest.live"] = RedisHub(app.extensions["fixquest.redis"], listener_client(url))
    else:
        app.extensions["fixquest.live"] = LocalHub()
    app.extensions["fixquest.live.slots"] = StreamSlots(int(app.config.get("LIVE_MAX_STREAMS") or 0))
    aftercommit.on_commit(KEY, _publish_committed)


def hub() -> Hub:
    return current_app.extensions["fixquest.live"]


def publish(session: Session, topic: str, name: str, build: Callable[[Session], dict], *,
            only_if_watched: bool = False) -> None:
    """Send `build(session)` to the topic's streams once this transaction commits. Called more
    than once for a topic and name in one transaction, it sends once (the last build).

    only_if_watched: skip the topic (and its build) when no stream in any process is open
    on it, for publishers of many per-person topics. Nothing is lost: a stream says it is
    open before it reads its first snapshot, and the check runs after the commit, so a
    stream either is seen or reads a snapshot that already shows the change."""
    aftercommit.queue(session, KEY, (topic, name, build, only_if_watched))


def _publish_committed(items: list[tuple[str, str, Callable[[Session], dict], bool]]) -> None:
    latest = {(topic, name): (build, only_if_watched) for topic, name, build, only_if_watched in items}
    live = hub()
    optional = [topic for (topic, _), (_, only_if_watched) in latest.items() if only_if_watched]
    unwatched = set(optional) - live.watched(optional) if optional else set()
    built = []
    with Session(db.engine) as session:
        for (topic, name), (build, _) in latest.items():
            if topic in unwatched:
                continue
            try:
                built.append((topic, name, build(session)))
            except Exception:  # noqa: BLE001 - the rows are committed; the next event heals
                log.warning("live: could not build %s; its streams catch up at the next event", topic,
                            exc_info=True)
                session.rollback()
    try:
        live.publish_many(built)
    except Exception:  # noqa: BLE001 - never fail the request: its rows are committed
        log.warning("live: could not publish %s; their streams catch up at the next event",
                    ", ".join(topic for topic, _, _ in built[:5]), exc_info=True)


def format_event(event_id: int, name: str, data: str) -> str:
    return f"id: {event_id}\nevent: {name}\ndata: {data}\n\n"


def _last_event_id() -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.args.get("lastEventId") or ""
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def _snapshot_event(live: Hub, topic: str, name: str, snapshot: Callable[[Session], dict],
                    session: Session) -> LiveEvent:
    """The state now, numbered with the id before it was read: an event published
    meanwhile is sent again rather than lost."""
    cursor = live.last_id(topic)
    return LiveEvent(topic, cursor, name, json.dumps(snapshot(session), separators=(",", ":")))


class _SharedSnapshots:
    """After a resync, a topic's streams in this process share one fresh snapshot instead
    of a thousand identical queries at once (every stream of a topic is sent the same
    events anyway). Keyed by topic, event name and the hub's generation."""

    KEEP = 1000

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, list] = OrderedDict()

    def get(self, key: tuple, read: Callable[[], LiveEvent]) -> LiveEvent:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = [threading.Lock(), None]
                while len(self._entries) > self.KEEP:
                    self._entries.popitem(last=False)
        with entry[0]:  # the first stream reads; the others wait for its answer
            if entry[1] is None:
                entry[1] = read()  # if it raises, the next stream tries again
            return entry[1]


_shared: WeakKeyDictionary = WeakKeyDictionary()
_shared_lock = threading.Lock()


def _snapshot_key(snapshot: Callable) -> object:
    """Which snapshots are the same: the same code with the same captured values (so a
    closure over a viewer's role is never shared with another viewer); else itself."""
    if isinstance(snapshot, partial):
        return (_snapshot_key(snapshot.func), snapshot.args, tuple(sorted(snapshot.keywords.items())))
    code = getattr(snapshot, "__code__", None)
    if code is None:
        return snapshot
    cells = tuple(cell.cell_contents for cell in snapshot.__closure__ or ())
    key = (code, cells, getattr(snapshot, "__self__", None))
    try:
        hash(key)
    except TypeError:
        return snapshot
    return key


def _shared_snapshots(live: Hub) -> _SharedSnapshots:
    with _shared_lock:
        if live not in _shared:
            _shared[live] = _SharedSnapshots()
        return _shared[live]


def _too_many() -> Response:
    response = Response("This server is holding as many live streams as it can; try again shortly.\n",
                        status=503, mimetype="text/plain")
    response.headers["Retry-After"] = "10"
    return response


def stream(topic: str, name: str, snapshot: Callable[[Session], dict], *,
           keepalive: float | None = None) -> Response:
    """Serve the topic as Server-Sent Events (see the module docstring). `snapshot(session)`
    must depend only on the topic and what it captures, not on the request: after a resync
    it runs again outside the request, and streams with the same snapshot share its result."""
    app = current_app._get_current_object()
    live = hub()
    keepalive = keepalive or app.config.get("LIVE_KEEPALIVE_SECONDS", KEEPALIVE_SECONDS)
    lifetime = float(app.config.get("LIVE_STREAM_MAX_SECONDS") or 0)
    slots: StreamSlots | None = app.extensions.get("fixquest.live.slots")
    if slots is not None and not slots.take():
        return _too_many()
    try:
        live.watch(topic, 3 * keepalive)  # before the snapshot: see publish(only_if_watched)
        generation = live.generation(topic)
        resume_from = _last_event_id()
        missed = live.since(topic, resume_from) if resume_from is not None else None
        if missed is None:
            first = [_snapshot_event(live, topic, name, snapshot, db.session)]
        else:
            first = missed
        cursor = first[-1].id if first else resume_from
    except BaseException:
        if slots is not None:
            slots.give_back()
        raise
    finally:
        db.session.remove()  # the stream must not hold a database connection while it waits

    def read_snapshot() -> LiveEvent:
        with app.app_context():
            try:
                return _snapshot_event(live, topic, name, snapshot, db.session)
            finally:
                db.session.remove()

    def resync(generation: int) -> LiveEvent:
        return _shared_snapshots(live).get((topic, name, generation, _snapshot_key(snapshot)), read_snapshot)

    def events() -> Iterator[str]:
        at, seen = cursor, generation
        ends = time.monotonic() + lifetime if lifetime else None
        watch_again = time.monotonic() + keepalive
        yield f"retry: {RETRY_MS}\n\n"
        for event in first:
            yield format_event(event.id, event.name, event.data)
        while ends is None or time.monotonic() < ends:
            timeout = keepalive if ends is None else max(0.0, min(keepalive, ends - time.monotonic()))
            fresh = live.wait(topic, at, timeout)
            if time.monotonic() >= watch_again:
                live.watch(topic, 3 * keepalive)
                watch_again = time.monotonic() + keepalive
            if live.generation(topic) != seen:
                seen = live.generation(topic)
                fresh = [resync(seen)]
            elif not fresh:
                yield ": keepalive\n\n"
                continue
            for event in fresh:
                yield format_event(event.id, event.name, event.data)
                at = max(at, event.id)

    response = Response(events(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event straight on
    if slots is not None:
        response.call_on_close(slots.give_back)  # the server closes the response when the client goes
    return response
