"""The Redis hub: events and history shared between processes, ids that survive Redis
forgetting a topic, a listener that reconnects, and streams that live through an outage."""
from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import redis
from flask import Flask

import live
from extensions import db, make_redis
from live.hub import RedisHub, listener_client
from tests.conftest import TEST_REDIS_URL, require_service
from tests.sse import event_data, event_id, read_blocks, ready, wait_for


@pytest.fixture
def client():
    try:
        client = redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True, socket_timeout=2)
        client.ping()
    except redis.RedisError as exc:
        require_service("Redis", str(exc))
    return client


@pytest.fixture
def hubs(client):
    """RedisHubs as separate processes would have them (each its own listener); stopped after."""
    made = []

    def make(listen_url: str = TEST_REDIS_URL, **kwargs) -> RedisHub:
        hub = RedisHub(make_redis(TEST_REDIS_URL), listener_client(listen_url), **kwargs)
        made.append(hub)
        return hub

    yield make
    for hub in made:
        hub.close()


@pytest.fixture
def topic(client):
    name = f"test:{uuid.uuid4().hex}"
    yield name
    client.delete(f"live:{name}:seq", f"live:{name}:log")


def _subscribed(hub: RedisHub) -> RedisHub:
    hub.last_id("test:start")
    assert hub.subscribed.wait(5)
    return hub


def test_redis_hubs_in_two_processes_share_events_and_history(hubs, topic):
    a, b = hubs(), _subscribed(hubs())
    got = []
    waiter = threading.Thread(target=lambda: got.extend(b.wait(topic, 0, timeout=5)))
    waiter.start()
    wait_for(lambda: b.waiting(topic) == 1)
    first = a.publish(topic, "state", {"from": "a"})
    waiter.join(5)
    assert [json.loads(e.data) for e in got] == [{"from": "a"}]
    second = a.publish(topic, "state", {"n": 2})
    assert [e.id for e in b.since(topic, 0)] == [first.id, second.id]
    assert second.id == first.id + 1
    assert b.last_id(topic) == second.id


def test_a_gap_the_history_no_longer_holds_gets_a_snapshot(hubs, topic):
    hub = hubs(history=2)
    ids = [hub.publish(topic, "state", {"n": n}).id for n in range(5)]
    assert hub.since(topic, ids[0]) is None
    assert [e.id for e in hub.since(topic, ids[2])] == ids[3:]
    assert hub.since(topic, ids[4]) == []
    assert hub.since(topic, ids[4] + 1) is None  # an id Redis never gave out
    assert hub.since(f"{topic}:never", 0) == []


def test_ids_keep_rising_when_redis_forgets_a_topic(hubs, topic, client):
    a, b = hubs(), _subscribed(hubs())
    before = a.publish(topic, "state", {"n": 1})
    client.delete(f"live:{topic}:seq", f"live:{topic}:log")  # expiry, a flush, a restart
    time.sleep(0.01)
    got = []
    waiter = threading.Thread(target=lambda: got.extend(b.wait(topic, before.id, timeout=5)))
    waiter.start()
    wait_for(lambda: b.waiting(topic) == 1)
    after = a.publish(topic, "state", {"n": 2})
    waiter.join(5)
    assert after.id > before.id
    assert [json.loads(e.data) for e in got] == [{"n": 2}]  # a waiting stream is not stuck
    assert [e.id for e in b.since(topic, before.id)] == [after.id]  # nor is a browser resuming


def test_the_listener_reconnects_and_its_streams_resync(hubs, topic, client):
    name = f"live-test-{uuid.uuid4().hex[:8]}"
    listen = redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True, client_name=name)
    hub = RedisHub(make_redis(TEST_REDIS_URL), listen)
    try:
        _subscribed(hub)
        generation = hub.generation(topic)
        woke = []
        waiter = threading.Thread(target=lambda: woke.append(hub.wait(topic, 0, timeout=10)))
        waiter.start()
        wait_for(lambda: hub.waiting(topic) == 1)
        hub.subscribed.clear()
        [mine] = [c["id"] for c in client.client_list() if c.get("name") == name]
        client.client_kill_filter(_id=mine)
        assert hub.subscribed.wait(5), "the listener did not come back"
        waiter.join(5)
        assert woke == [[]] and hub.generation(topic) != generation  # the stream takes a snapshot
        other = _subscribed(hubs())
        got = []
        waiter = threading.Thread(target=lambda: got.extend(hub.wait(topic, 0, timeout=5)))
        waiter.start()
        wait_for(lambda: hub.waiting(topic) == 1)
        other.publish(topic, "state", {"after": "reconnect"})
        waiter.join(5)
        assert [json.loads(e.data) for e in got] == [{"after": "reconnect"}]
    finally:
        hub.close()


DOWN_URL = "redis://127.0.0.1:1/0"  # nothing listens there


def test_with_redis_down_publish_fails_fast_and_local_streams_resync(topic):
    hub = RedisHub(make_redis(DOWN_URL), listener_client(DOWN_URL))
    try:
        generation = hub.generation(topic)
        started = time.monotonic()
        for _ in range(3):
            with pytest.raises(redis.RedisError):
                hub.publish(topic, "state", {"n": 1})
        assert time.monotonic() - started < 2
        assert hub.generation(topic) != generation
        assert hub.last_id(topic) == 0 and hub.since(topic, 5) is None
    finally:
        hub.close()


def test_a_stream_opens_and_keeps_alive_while_redis_is_down(topic):
    hub = RedisHub(make_redis(DOWN_URL), listener_client(DOWN_URL))
    flask_app = Flask("stream-down")
    flask_app.extensions["fixquest.live"] = hub
    flask_app.config.update(LIVE_KEEPALIVE_SECONDS=0.05, SQLALCHEMY_DATABASE_URI="sqlite://")
    db.init_app(flask_app)

    @flask_app.get("/s")
    def s():
        return live.stream(topic, "state", lambda session: {"from": "the database"})

    try:
        response = flask_app.test_client().get("/s", headers={"Last-Event-ID": "42"})
        retry, first, keepalive, again = read_blocks(response, 4)
        assert event_data(first) == {"from": "the database"} and event_id(first) == 0
        assert keepalive == again == ": keepalive"
        response.close()
    finally:
        hub.close()


def test_a_new_stream_never_takes_the_mirrors_older_events_for_new_ones(hubs, topic, client):
    """Redis forgot the topic (a restart) but this process's mirror still holds its last
    events: a stream opening now must wait for newer ones, not replay those."""
    hub = _subscribed(hubs())
    old = hub.publish(topic, "state", {"n": "old"})
    client.delete(f"live:{topic}:seq", f"live:{topic}:log")
    cursor = hub.last_id(topic)
    assert cursor >= old.id
    assert hub.wait(topic, cursor, timeout=0.1) == []


def test_a_topic_watched_in_one_process_is_seen_watched_in_another(hubs, topic):
    a, b = hubs(), hubs()
    assert b.watched([topic]) == set()
    a.watch(topic, 0.3)
    assert b.watched([topic, f"{topic}:other"]) == {topic}
    time.sleep(0.4)
    assert b.watched([topic]) == set()


def test_many_streams_on_a_topic_renew_its_presence_with_one_redis_write(hubs, topic, client):
    """A thousand streams of one topic renewing together once tripped Redis timeouts (the
    bench found it); now one write per topic stands for them while it is fresh."""
    hub = hubs()
    hub.watch(topic, 60)
    assert client.zscore("live:watching", topic) is not None
    client.zrem("live:watching", topic)
    threads = [threading.Thread(target=hub.watch, args=(topic, 60)) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert client.zscore("live:watching", topic) is None  # none of the fifty wrote again


def test_a_failed_publish_makes_every_process_resync_once_redis_answers(hubs, topic, monkeypatch):
    a, b = _subscribed(hubs()), _subscribed(hubs())
    before = b.generation(topic)
    script = a._script

    def refuse(*args, **kwargs):
        raise redis.TimeoutError("Redis is busy")

    monkeypatch.setattr(a, "_script", refuse)
    with pytest.raises(redis.RedisError):
        a.publish(topic, "state", {"lost": True})
    assert b.generation(topic) == before  # b cannot know yet
    monkeypatch.setattr(a, "_script", script)
    # within a second or two of the back-off ending, a's listener tells everyone
    wait_for(lambda: b.generation(topic) != before, timeout=6)


def test_hubs_on_two_databases_of_one_server_do_not_hear_each_other(hubs):
    base, db = TEST_REDIS_URL.rsplit("/", 1)
    other = f"{base}/{(int(db) + 1) % 16}"  # another app on the same server
    ours = hubs()
    neighbour = RedisHub(make_redis(other), listener_client(other))
    try:
        ready(ours)
        before = ours.last_id("shared:topic")
        neighbour.publish("shared:topic", "state", {"from": "another app"})
        assert ours.wait("shared:topic", before, 0.5) == []
    finally:
        neighbour.close()
