"""Live updates: publish after commit, streams that resume, and the two hubs."""
from __future__ import annotations

import json
import threading

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select

import live
from accounts.models import User
from extensions import db
from live.hub import LocalHub, RedisHub
from tests.conftest import TEST_REDIS_URL, require_service
from tests.factories import make_user


def _users_count(session):
    return {"users": session.scalar(select(func.count(User.id)))}


def test_publish_sends_the_state_built_after_commit(app, ctx):
    hub = live.hub()
    before = hub.last_id("test:users")
    make_user(name="Ada")
    live.publish(db.session, "test:users", "state", _users_count)
    live.publish(db.session, "test:users", "state", _users_count)  # one send per commit
    assert hub.last_id("test:users") == before
    db.session.commit()
    sent = hub.since("test:users", before)
    assert [json.loads(e.data) for e in sent] == [{"users": 1}]


def test_a_rolled_back_transaction_publishes_nothing(app, ctx):
    hub = live.hub()
    before = hub.last_id("test:rollback")
    db.session.add(User(email="r@example.org", password_hash="x", display_name="R"))
    db.session.flush()
    live.publish(db.session, "test:rollback", "state", lambda session: {"x": 1})
    db.session.rollback()
    db.session.commit()
    assert hub.last_id("test:rollback") == before


def _read_events(response, count):
    """The first `count` SSE blocks of a streamed response (comments included)."""
    blocks, buffer = [], ""
    for chunk in response.response:
        buffer += chunk if isinstance(chunk, str) else chunk.decode()
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            blocks.append(block)
            if len(blocks) == count:
                return blocks
    return blocks


@pytest.fixture
def stream_app(app):
    """A route streaming one topic, on the shared app's hub."""
    flask_app = Flask("stream-test")
    flask_app.extensions["fixquest.live"] = app.extensions["fixquest.live"]
    flask_app.config["LIVE_KEEPALIVE_SECONDS"] = 0.05

    @flask_app.get("/s")
    def s():
        return live.stream("test:stream", "state", lambda session: {"now": "snapshot"})

    flask_app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(flask_app)
    return flask_app


def test_stream_starts_with_the_state_now_then_keeps_alive(stream_app):
    response = stream_app.test_client().get("/s")
    assert response.mimetype == "text/event-stream"
    retry, first, keepalive = _read_events(response, 3)
    assert retry == "retry: 3000"
    assert "event: state" in first and 'data: {"now":"snapshot"}' in first
    assert keepalive == ": keepalive"


def test_stream_resumes_from_last_event_id_without_a_new_snapshot(app, stream_app):
    hub = app.extensions["fixquest.live"]
    with app.app_context():
        first = hub.publish("test:stream", "state", {"n": 1})
        hub.publish("test:stream", "state", {"n": 2})
        hub.publish("test:stream", "state", {"n": 3})
    response = stream_app.test_client().get("/s", headers={"Last-Event-ID": str(first.id)})
    _, two, three = _read_events(response, 3)
    assert f"id: {first.id + 1}" in two and '"n":2' in two
    assert f"id: {first.id + 2}" in three and '"n":3' in three


def test_a_waiting_stream_wakes_when_an_event_is_published():
    hub = LocalHub()
    got = []
    waiter = threading.Thread(target=lambda: got.extend(hub.wait("t", 0, timeout=5)))
    waiter.start()
    hub.publish("t", "state", {"a": 1})
    waiter.join(2)
    assert [json.loads(e.data) for e in got] == [{"a": 1}]


def test_local_hub_answers_none_when_the_gap_is_no_longer_kept():
    hub = LocalHub(history=2)
    for n in range(5):
        hub.publish("t", "state", {"n": n})
    assert hub.since("t", 1) is None  # events 2 and 3 are gone: the stream sends a snapshot
    assert [e.id for e in hub.since("t", 3)] == [4, 5]
    assert hub.since("t", 99) is None


def _redis_or_skip():
    try:
        client = redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True, socket_timeout=2)
        client.ping()
    except redis.RedisError as exc:
        require_service("Redis", str(exc))
    return client


def test_redis_hubs_in_two_processes_share_events_and_history():
    client = _redis_or_skip()
    client.delete("live:t:seq", "live:t:log")
    listen = redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    a, b = RedisHub(client, listen), RedisHub(client, redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True))
    b.last_id("t")  # starts b's listener
    got = []
    waiter = threading.Thread(target=lambda: got.extend(b.wait("t", 0, timeout=5)))
    waiter.start()
    import time
    time.sleep(0.2)  # let the subscription settle
    a.publish("t", "state", {"from": "a"})
    waiter.join(5)
    assert [json.loads(e.data) for e in got] == [{"from": "a"}]
    a.publish("t", "state", {"n": 2})
    assert [e.id for e in b.since("t", 0)] == [1, 2]
    client.delete("live:t:seq", "live:t:log")
