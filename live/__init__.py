"""Live updates: publish a topic's new state after commit; stream it as Server-Sent Events.

Publishers (events' scoreboards, campaigns' progress, notifications) call
`publish(session, topic, name, build)` inside their transaction. After the commit,
`build(session)` runs once, on a fresh session of its own (the committed one can emit no
more SQL), and its dict goes to every stream on the topic;
after a rollback nothing is sent. An event carries the whole new state, so a client that
misses one is right again at the next.

Views serve a topic with `stream(topic, name, snapshot)`: the first event is the state now
(`snapshot(db.session)`, read before streaming starts; the same function can serve as the
publisher's `build`), then each published event, a keepalive
comment about every 15 seconds, and `id:` lines so a reconnecting browser's Last-Event-ID
resumes where it left off. The database session is released before the first byte: an
idle stream holds no database connection.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import redis
from flask import Flask, Response, current_app, request
from sqlalchemy.orm import Session

import aftercommit
from extensions import db
from live.hub import Hub, LiveEvent, LocalHub, RedisHub

KEY = "live.publish"
KEEPALIVE_SECONDS = 15.0


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    if url:
        client = app.extensions["fixquest.redis"]
        listen = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2,
                                      health_check_interval=30)
        app.extensions["fixquest.live"] = RedisHub(client, listen)
    else:
        app.extensions["fixquest.live"] = LocalHub()
    aftercommit.on_commit(KEY, _publish_committed)


def hub() -> Hub:
    return current_app.extensions["fixquest.live"]


def publish(session: Session, topic: str, name: str, build: Callable[[Session], dict]) -> None:
    """Send `build(session)` to the topic's streams once this transaction commits. Called more
    than once for a topic and name in one transaction, it sends once (the last build)."""
    aftercommit.queue(session, KEY, (topic, name, build))


def _publish_committed(items: list[tuple[str, str, Callable[[Session], dict]]]) -> None:
    latest = {(topic, name): build for topic, name, build in items}
    with Session(db.engine) as session:
        for (topic, name), build in latest.items():
            try:
                hub().publish(topic, name, build(session))
            except redis.RedisError:
                current_app.logger.warning("live: could not publish %s; streams catch up at the next event", topic)


def format_event(event_id: int, name: str, data: str) -> str:
    return f"id: {event_id}\nevent: {name}\ndata: {data}\n\n"


def _last_event_id() -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.args.get("lastEventId") or ""
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def stream(topic: str, name: str, snapshot: Callable[[Session], dict], *,
           keepalive: float | None = None) -> Response:
    live = hub()
    keepalive = keepalive or current_app.config.get("LIVE_KEEPALIVE_SECONDS", KEEPALIVE_SECONDS)
    resume_from = _last_event_id()
    missed = live.since(topic, resume_from) if resume_from is not None else None
    if missed is None:
        cursor = live.last_id(topic)
        first = [LiveEvent(topic, cursor, name, json.dumps(snapshot(db.session), separators=(",", ":")))]
    else:
        first, cursor = missed, (missed[-1].id if missed else resume_from)
    db.session.remove()  # the stream must not hold a database connection while it waits

    def events() -> Iterator[str]:
        at = cursor
        yield "retry: 3000\n\n"
        for event in first:
            yield format_event(event.id, event.name, event.data)
        while True:
            fresh = live.wait(topic, at, keepalive)
            if not fresh:
                yield ": keepalive\n\n"
                continue
            for event in fresh:
                yield format_event(event.id, event.name, event.data)
                at = event.id

    response = Response(events(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event straight on
    return response
