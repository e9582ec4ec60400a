"""Live updates: publish after commit, streams that resume, resync and end cleanly, and the
in-process hub (the Redis hub's own tests are in test_live_redis.py)."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

import live
from accounts.models import User
from extensions import db
from live.hub import LocalHub
from tests.factories import make_user
from tests.sse import event_data, event_id, read_blocks, ready, wait_for


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


class _BrokenHub(LocalHub):
    def publish(self, topic, name, data):
        raise ConnectionError("the hub is down")


def test_a_failing_hub_or_build_never_fails_the_commit(app, ctx, monkeypatch, caplog):
    monkeypatch.setitem(app.extensions, "fixquest.live", _BrokenHub())
    make_user(name="Grace")
    live.publish(db.session, "test:broken", "state", _users_count)
    live.publish(db.session, "test:broken-build", "state", lambda session: 1 / 0)
    db.session.commit()  # no exception reaches the request
    db.session.remove()
    assert db.session.scalar(select(func.count(User.id))) == 1  # the committed rows stand
    assert "could not build test:broken-build" in caplog.text
    assert "could not publish test:broken" in caplog.text


# --- streams -----------------------------------------------------------------------------

@pytest.fixture
def hub():
    return LocalHub()


@pytest.fixture
def stream_app(hub):
    """A bare app streaming one topic from its own in-process hub; the snapshot counts
    how often it is read."""
    flask_app = Flask("stream-test")
    flask_app.extensions["fixquest.live"] = hub
    flask_app.extensions["fixquest.live.slots"] = live.StreamSlots(0)
    flask_app.config.update(LIVE_KEEPALIVE_SECONDS=0.05, SQLALCHEMY_DATABASE_URI="sqlite://")
    flask_app.snapshots = 0

    def snapshot(session):
        flask_app.snapshots += 1
        return {"now": "snapshot", "read": flask_app.snapshots}

    @flask_app.get("/s")
    def s():
        return live.stream("test:stream", "state", snapshot)

    db.init_app(flask_app)
    return flask_app


def test_stream_starts_with_the_state_now_then_keeps_alive(stream_app):
    response = stream_app.test_client().get("/s")
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-cache"
    retry, first, keepalive = read_blocks(response, 3)
    assert retry == "retry: 3000"
    assert "event: state" in first and event_data(first) == {"now": "snapshot", "read": 1}
    assert event_id(first) == 0  # nothing published yet
    assert keepalive == ": keepalive"
    response.close()


def test_keepalives_come_at_the_configured_interval(stream_app):
    stream_app.config["LIVE_KEEPALIVE_SECONDS"] = 0.3
    response = stream_app.test_client().get("/s")
    read_blocks(response, 2)
    started = time.monotonic()
    assert read_blocks(response, 2) == [": keepalive", ": keepalive"]
    assert 0.55 <= time.monotonic() - started < 3  # not early; the upper bound allows a busy machine
    response.close()


def test_stream_sends_each_published_event_with_its_id(stream_app, hub):
    stream_app.config["LIVE_KEEPALIVE_SECONDS"] = 30  # nothing but the event is read next
    response = stream_app.test_client().get("/s")
    read_blocks(response, 2)
    got = []
    reader = threading.Thread(target=lambda: got.extend(read_blocks(response, 1)))
    reader.start()
    wait_for(lambda: hub.waiting("test:stream") == 1)
    event = hub.publish("test:stream", "state", {"n": 1})
    reader.join(2)
    assert event_id(got[0]) == event.id and event_data(got[0]) == {"n": 1}
    response.close()


def test_stream_resumes_from_last_event_id_without_a_new_snapshot(stream_app, hub):
    first = hub.publish("test:stream", "state", {"n": 1})
    hub.publish("test:stream", "state", {"n": 2})
    hub.publish("test:stream", "state", {"n": 3})
    response = stream_app.test_client().get("/s", headers={"Last-Event-ID": str(first.id)})
    _, two, three = read_blocks(response, 3)
    assert (event_id(two), event_data(two)) == (first.id + 1, {"n": 2})
    assert (event_id(three), event_data(three)) == (first.id + 2, {"n": 3})
    assert stream_app.snapshots == 0
    response.close()


@pytest.mark.parametrize("last_event_id", ["999999", "1"])
def test_an_id_from_another_life_or_a_lost_gap_gets_a_fresh_snapshot(stream_app, last_event_id):
    """999999: this hub never reached it (the server restarted); 1: no longer kept."""
    hub = stream_app.extensions["fixquest.live"] = LocalHub(history=2)
    for n in range(5):
        hub.publish("test:stream", "state", {"n": n})
    response = stream_app.test_client().get("/s", headers={"Last-Event-ID": last_event_id})
    _, first = read_blocks(response, 2)
    assert event_data(first)["now"] == "snapshot" and event_id(first) == 5
    response.close()


def test_a_resync_sends_a_fresh_snapshot_to_waiting_streams(stream_app, hub):
    stream_app.config["LIVE_KEEPALIVE_SECONDS"] = 30  # nothing but the event is read next
    response = stream_app.test_client().get("/s")
    read_blocks(response, 2)
    got = []
    reader = threading.Thread(target=lambda: got.extend(read_blocks(response, 1)))
    reader.start()
    wait_for(lambda: hub.waiting("test:stream") == 1)
    hub.resync_all()  # e.g. the Redis listener reconnected: events may have been lost
    reader.join(2)
    assert event_data(got[0]) == {"now": "snapshot", "read": 2}
    response.close()


def test_a_stream_ends_after_its_lifetime_and_the_browser_resumes(stream_app):
    stream_app.config["LIVE_STREAM_MAX_SECONDS"] = 0.2
    response = stream_app.test_client().get("/s")
    started = time.monotonic()
    blocks = read_blocks(response, 100)  # returns when the stream ends
    assert time.monotonic() - started < 5
    assert blocks[0] == "retry: 3000" and "event: state" in blocks[1]


def test_streams_beyond_the_cap_are_refused_until_one_closes(stream_app):
    stream_app.extensions["fixquest.live.slots"] = slots = live.StreamSlots(1)
    first = stream_app.test_client().get("/s")
    refused = stream_app.test_client().get("/s")
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "10"
    first.close()
    assert slots.open == 0
    again = stream_app.test_client().get("/s")
    assert again.status_code == 200
    again.close()


def test_a_client_that_disconnects_leaves_no_waiter_and_frees_its_slot(stream_app, hub):
    """Over a real socket: the server's next keepalive write fails, it closes the
    response, and the stream's thread and slot are free again."""
    slots = stream_app.extensions["fixquest.live.slots"]
    server = make_server("127.0.0.1", 0, stream_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        clients = []
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", server.server_port), timeout=5)
            sock.sendall(b"GET /s HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
            received = b""
            while b"event: state" not in received:
                received += sock.recv(4096)
            clients.append(sock)
        wait_for(lambda: hub.waiting("test:stream") == 3)
        assert slots.open == 3
        for sock in clients:
            sock.close()
        wait_for(lambda: slots.open == 0 and hub.waiting("test:stream") == 0)
    finally:
        server.shutdown()


# --- the in-process hub ------------------------------------------------------------------

def test_a_waiting_stream_wakes_when_an_event_is_published():
    hub = LocalHub()
    got = []
    waiter = threading.Thread(target=lambda: got.extend(hub.wait("t", 0, timeout=5)))
    waiter.start()
    wait_for(lambda: hub.waiting("t") == 1)
    hub.publish("t", "state", {"a": 1})
    waiter.join(2)
    assert [json.loads(e.data) for e in got] == [{"a": 1}]


def test_two_hundred_waiters_all_get_the_event_and_leave_nothing_behind():
    hub = LocalHub()
    got: list[int] = []
    lock = threading.Lock()

    def waiter():
        events = hub.wait("t", 0, timeout=5)
        with lock:
            got.extend(e.id for e in events)

    threads = [threading.Thread(target=waiter) for _ in range(200)]
    for thread in threads:
        thread.start()
    wait_for(lambda: hub.waiting("t") == 200)
    hub.publish("t", "state", {"a": 1})
    for thread in threads:
        thread.join(5)
    assert got == [1] * 200
    assert hub.waiting() == 0


def test_an_event_on_another_topic_does_not_end_a_wait():
    hub = LocalHub()
    result = []
    waiter = threading.Thread(target=lambda: result.append(hub.wait("mine", 0, timeout=0.3)))
    waiter.start()
    wait_for(lambda: hub.waiting("mine") == 1)
    hub.publish("other", "state", {"a": 1})
    waiter.join(2)
    assert result == [[]]


def test_racing_publishers_number_events_without_gaps_or_repeats():
    hub = LocalHub(history=1000)
    threads = [threading.Thread(target=lambda: [hub.publish("t", "state", {}) for _ in range(50)])
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [e.id for e in hub.since("t", 0)] == list(range(1, 401))


def test_local_hub_answers_none_when_the_gap_is_no_longer_kept():
    hub = LocalHub(history=2)
    for n in range(5):
        hub.publish("t", "state", {"n": n})
    assert hub.since("t", 1) is None  # events 2 and 3 are gone: the stream sends a snapshot
    assert [e.id for e in hub.since("t", 3)] == [4, 5]
    assert hub.since("t", 5) == []
    assert hub.since("t", 99) is None
    assert hub.since("never", 0) == [] and hub.since("never", 3) is None


def test_idle_topics_are_forgotten_beyond_the_limit_but_watched_ones_stay():
    hub = LocalHub(max_topics=3)
    waiter = threading.Thread(target=lambda: hub.wait("watched", 0, timeout=2))
    waiter.start()
    wait_for(lambda: hub.waiting("watched") == 1)
    for n in range(5):
        hub.publish(f"idle{n}", "state", {})
    assert hub.last_id("idle0") == 0 and hub.last_id("idle4") == 1
    hub.publish("watched", "state", {})
    waiter.join(2)
    assert hub.last_id("watched") == 1


def test_streams_of_a_topic_share_one_snapshot_after_a_resync(stream_app, hub):
    stream_app.config["LIVE_KEEPALIVE_SECONDS"] = 30  # nothing but the event is read next
    responses = [stream_app.test_client().get("/s") for _ in range(30)]
    for response in responses:
        read_blocks(response, 2)
    assert stream_app.snapshots == 30
    got: list[list[str]] = []
    readers = [threading.Thread(target=lambda r=r: got.append(read_blocks(r, 1))) for r in responses]
    for reader in readers:
        reader.start()
    wait_for(lambda: hub.waiting("test:stream") == 30)
    hub.resync_all()
    for reader in readers:
        reader.join(5)
    assert stream_app.snapshots == 31  # one query for thirty streams
    assert [event_data(blocks[0]) for blocks in got] == [{"now": "snapshot", "read": 31}] * 30
    for response in responses:
        response.close()


def test_only_if_watched_skips_topics_no_stream_is_open_on(app, ctx, monkeypatch):
    hub = LocalHub()
    monkeypatch.setitem(app.extensions, "fixquest.live", hub)
    hub.watch("test:watched", 60)
    built = []
    for topic in ("test:watched", "test:unwatched"):
        live.publish(db.session, topic, "state", lambda session, t=topic: built.append(t) or {"t": t},
                     only_if_watched=True)
    live.publish(db.session, "test:always", "state", lambda session: {"t": "always"})
    db.session.commit()
    assert built == ["test:watched"]  # the unwatched topic's state is not even read
    assert [hub.last_id(t) for t in ("test:watched", "test:unwatched", "test:always")] == [1, 0, 1]


def test_an_open_stream_marks_its_topic_watched_until_shortly_after_it_closes(stream_app, hub):
    response = stream_app.test_client().get("/s")
    read_blocks(response, 2)
    assert hub.watched(["test:stream", "test:other"]) == {"test:stream"}
    response.close()
    wait_for(lambda: hub.watched(["test:stream"]) == set())  # three keepalives (0.15 s) later


def test_after_a_resync_snapshots_capturing_different_values_are_not_shared(hub):
    """A closure over a viewer's role must never hand its state to another viewer."""
    flask_app = Flask("stream-roles")
    flask_app.extensions["fixquest.live"] = hub
    flask_app.config.update(LIVE_KEEPALIVE_SECONDS=30, SQLALCHEMY_DATABASE_URI="sqlite://")
    db.init_app(flask_app)

    @flask_app.get("/s/<role>")
    def s(role):
        return live.stream("test:roles", "state", lambda session: {"seen_by": role})

    responses = {role: flask_app.test_client().get(f"/s/{role}") for role in ("organiser", "public")}
    for response in responses.values():
        read_blocks(response, 2)
    got = {}
    readers = [threading.Thread(target=lambda r=r, k=k: got.update({k: read_blocks(r, 1)})) for k, r in responses.items()]
    for reader in readers:
        reader.start()
    wait_for(lambda: hub.waiting("test:roles") == 2)
    hub.resync_all()
    for reader in readers:
        reader.join(5)
    assert {role: event_data(blocks[0])["seen_by"] for role, blocks in got.items()} == {
        "organiser": "organiser", "public": "public"}
    for response in responses.values():
        response.close()
