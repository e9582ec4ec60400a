"""The hub: where live events are published and where streams wait for them.

An event is (id, name, data) on a topic such as "event:7:scoreboard". Every event carries
the topic's WHOLE state, so a stream that misses some is right again at the next one. Ids
rise per topic, so a stream that reconnects with Last-Event-ID gets what it missed from
the topic's recent history (the last HISTORY events) instead of a new snapshot.

Two hubs behind one interface, chosen once in create_app:
* LocalHub keeps each topic's history in memory and wakes the streams waiting on that
  topic (one Condition per topic, so a publish wakes only its own topic's streams). One
  process only: the default without Redis, and the dev server.
* RedisHub numbers events in Redis, keeps the history in a Redis list (so any worker on
  any machine can replay it) and announces each event on a pub/sub channel, all in one
  Lua script (so every process sees a topic's events in id order). One listener thread
  per process turns the announcements into deliveries to a LocalHub mirror, so a thousand
  streams in one worker share one Redis connection and no database connection.

Presence. Streams say which topics they are open on (`watch`, renewed every keepalive), so
a publisher of many per-person topics can skip those nobody is looking at (`watched`).

Resync. When a hub may have lost events (the pub/sub connection dropped and came back, a
publish could not reach Redis), it raises the topic's `generation`; streams that see it
change take a fresh snapshot from the database. A process whose publish failed resyncs
its own streams at once and, when Redis answers again, tells the others to resync those
topics too (RESYNC_CHANNEL). A RedisHub topic's ids start from the
publisher's clock in milliseconds, not from 1, so if Redis forgets a topic (expiry, a
flush, a restart without persistence) the new ids are still higher than any a stream or
browser holds, and are delivered instead of ignored.
"""
from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from collections.abc import Iterable
from typing import Protocol

import redis

log = logging.getLogger(__name__)

HISTORY = 20  # events kept per topic for Last-Event-ID resume; older gaps get a snapshot
MAX_TOPICS = 2000  # topics a LocalHub keeps in memory; the least recently used idle one goes
CHANNEL = "live:events"
RESYNC_CHANNEL = "live:resync"  # topics whose publish failed somewhere: every process resyncs them
WATCHING = "live:watching"  # sorted set: topic -> until when a stream is open on it (epoch seconds)
REDIS_DOWN_SECONDS = 2.0  # after a failed publish, skip Redis for this long (no stacked timeouts)


@dataclass(frozen=True)
class LiveEvent:
    topic: str
    id: int
    name: str
    data: str  # JSON text, sent as it is
    first: bool = False  # the first event of this topic's numbering (nothing before it was lost)

    def to_json(self) -> str:
        return json.dumps({"topic": self.topic, "id": self.id, "name": self.name, "data": self.data,
                           "first": self.first})

    @classmethod
    def from_json(cls, text: str) -> LiveEvent:
        raw = json.loads(text)
        return cls(raw["topic"], int(raw["id"]), raw["name"], raw["data"], bool(raw.get("first")))


class Hub(Protocol):
    def publish(self, topic: str, name: str, data: dict) -> LiveEvent: ...

    def publish_many(self, items: list[tuple[str, str, dict]]) -> list[LiveEvent]:
        """publish() for each (topic, name, data), in one round trip where the hub can."""

    def last_id(self, topic: str) -> int: ...

    def since(self, topic: str, after_id: int) -> list[LiveEvent] | None:
        """Events after after_id, oldest first; None when some are no longer kept (or the
        id is not one this hub gave out): the stream then sends a snapshot."""

    def wait(self, topic: str, after_id: int, timeout: float) -> list[LiveEvent]:
        """Block until there are events after after_id, the topic's generation changes, or
        the timeout passes; never touches SQL."""

    def generation(self, topic: str) -> int:
        """Rises whenever the topic's streams may have missed an event: take a new snapshot."""

    def watch(self, topic: str, seconds: float) -> None:
        """A stream is open on the topic; it says so again before `seconds` pass."""

    def watched(self, topics: Iterable[str]) -> set[str]:
        """Those of the topics some stream (in any process) is open on."""


def _newer(kept, after_id: int, last: int) -> list[LiveEvent] | None:
    """The resume rule both hubs share."""
    if after_id > last:
        return None  # an id this topic has not reached: another life of the hub
    newer = [e for e in kept if e.id > after_id]
    if after_id < last and (not newer or (newer[0].id != after_id + 1 and not newer[0].first)):
        return None  # the events in between are no longer kept
    return newer


class _Topic:
    __slots__ = ("events", "last", "changed", "waiters", "mark", "watched_until")

    def __init__(self, lock: threading.Lock, history: int):
        self.events: deque[LiveEvent] = deque(maxlen=history)
        self.last = 0
        self.changed = threading.Condition(lock)
        self.waiters = 0
        self.mark = 0  # the hub's resync counter when this topic last needed a resync
        self.watched_until = 0.0  # time.monotonic() until which a stream said it is open


class LocalHub:
    """Thread-safe: one lock guards every topic; each topic has its own Condition on it."""

    def __init__(self, history: int = HISTORY, max_topics: int = MAX_TOPICS):
        self._history = history
        self._max_topics = max_topics
        self._lock = threading.Lock()
        self._topics: OrderedDict[str, _Topic] = OrderedDict()
        self._resyncs = 0  # counter shared by both kinds of resync
        self._all_mark = 0  # its value at the last resync of every topic

    # --- publishing ---------------------------------------------------------------------

    def publish(self, topic: str, name: str, data: dict) -> LiveEvent:
        text = json.dumps(data, separators=(",", ":"))
        with self._lock:
            entry = self._topic(topic)
            event = LiveEvent(topic, entry.last + 1, name, text, first=entry.last == 0)
            self._append(entry, event)
            return event

    def publish_many(self, items: list[tuple[str, str, dict]]) -> list[LiveEvent]:
        return [self.publish(topic, name, data) for topic, name, data in items]

    def deliver(self, event: LiveEvent) -> None:
        """Take an event numbered elsewhere (RedisHub's listener); older ids are ignored."""
        with self._lock:
            entry = self._topic(event.topic)
            if event.id > entry.last:
                self._append(entry, event)

    def resync(self, topic: str) -> None:
        """The topic's streams may have missed an event: they take a fresh snapshot."""
        with self._lock:
            self._resyncs += 1
            entry = self._topic(topic)
            entry.mark = self._resyncs
            entry.changed.notify_all()

    def resync_all(self) -> None:
        with self._lock:
            self._resyncs += 1
            self._all_mark = self._resyncs
            for entry in self._topics.values():
                if entry.waiters:
                    entry.changed.notify_all()

    # --- reading --------------------------------------------------------------------------

    def last_id(self, topic: str) -> int:
        with self._lock:
            entry = self._topics.get(topic)
            return entry.last if entry else 0

    def since(self, topic: str, after_id: int) -> list[LiveEvent] | None:
        with self._lock:
            entry = self._topics.get(topic)
            if entry is None:
                return None if after_id else []
            return _newer(entry.events, after_id, entry.last)

    def generation(self, topic: str) -> int:
        with self._lock:
            entry = self._topics.get(topic)
            return max(self._all_mark, entry.mark if entry else 0)

    def wait(self, topic: str, after_id: int, timeout: float) -> list[LiveEvent]:
        deadline = time.monotonic() + timeout
        with self._lock:
            entry = self._topic(topic)
            start = max(self._all_mark, entry.mark)
            entry.waiters += 1  # an idle topic with waiters is never evicted
            try:
                while True:
                    # Each event carries a whole state, so a stream skips a gap rather than waits.
                    newer = [e for e in entry.events if e.id > after_id]
                    remaining = deadline - time.monotonic()
                    if newer or remaining <= 0 or max(self._all_mark, entry.mark) != start:
                        return newer
                    entry.changed.wait(remaining)
            finally:
                entry.waiters -= 1

    def watch(self, topic: str, seconds: float) -> None:
        with self._lock:
            entry = self._topic(topic)
            entry.watched_until = max(entry.watched_until, time.monotonic() + seconds)

    def watched(self, topics: Iterable[str]) -> set[str]:
        now = time.monotonic()
        with self._lock:
            return {topic for topic in topics if (entry := self._topics.get(topic)) is not None
                    and (entry.waiters or entry.watched_until > now)}

    def waiting(self, topic: str | None = None) -> int:
        """How many streams are waiting (on one topic, or on all): for tests and the bench."""
        with self._lock:
            if topic is not None:
                entry = self._topics.get(topic)
                return entry.waiters if entry else 0
            return sum(entry.waiters for entry in self._topics.values())

    # --- under the lock -------------------------------------------------------------------

    def _topic(self, topic: str) -> _Topic:
        entry = self._topics.get(topic)
        if entry is None:
            entry = self._topics[topic] = _Topic(self._lock, self._history)
            self._evict()
        else:
            self._topics.move_to_end(topic)
        return entry

    def _evict(self) -> None:
        """Forget the least recently used topics nobody waits on. A browser that comes back
        to a forgotten topic with its Last-Event-ID gets a snapshot (since() says None)."""
        excess = len(self._topics) - self._max_topics
        if excess <= 0:
            return
        excess += self._max_topics // 10  # in batches, so a burst of new topics stays cheap
        idle = []
        now = time.monotonic()
        for name, entry in self._topics.items():  # least recently used first
            if not entry.waiters and entry.watched_until <= now:
                idle.append(name)
                if len(idle) == excess:
                    break
        for name in idle:
            del self._topics[name]

    def _append(self, entry: _Topic, event: LiveEvent) -> None:
        entry.events.append(event)
        entry.last = event.id
        entry.changed.notify_all()


# KEYS: seq, log. ARGV: first id if the topic is new (the publisher's clock in ms), history,
# ttl, JSON head up to '"id":', channel. One script, so ids and announcements keep one order.
_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
local first = 'false'
if seq == 1 then
  seq = tonumber(ARGV[1])
  redis.call('SET', KEYS[1], ARGV[1])
  first = 'true'
end
local event = ARGV[4] .. string.format('%d', seq) .. ',"first":' .. first .. '}'
redis.call('RPUSH', KEYS[2], event)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[5], event)
return seq
"""


def listener_client(url: str) -> redis.Redis:
    """The pub/sub connection: no read timeout (it idles between events), TCP keepalive so
    a silently dead link is noticed in about 30 s and the listener reconnects."""
    options = {}
    for name, value in (("TCP_KEEPIDLE", 10), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, name):
            options[getattr(socket, name)] = value
    return redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2,
                                socket_keepalive=True, socket_keepalive_options=options)


class RedisHub:
    def __init__(self, client: redis.Redis, listen_client: redis.Redis, history: int = HISTORY,
                 ttl: int = 86400, max_topics: int = MAX_TOPICS):
        self._client = client
        self._listen_client = listen_client
        # Pub/sub channels belong to the whole Redis server, not to a database: apps on
        # different databases of one server (staging beside production, parallel test runs)
        # must not hear each other, so each channel names the database.
        db = client.connection_pool.connection_kwargs.get("db", 0)
        self._channel, self._resync_channel = f"{CHANNEL}:{db}", f"{RESYNC_CHANNEL}:{db}"
        self._history = history
        self._ttl = ttl
        self._script = client.register_script(_PUBLISH)
        self._local = LocalHub(history, max_topics)
        self._listener: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._stop = threading.Event()
        self._down_until = 0.0
        self._watch_lock = threading.Lock()
        self._registered: dict[str, float] = {}  # topic -> until when Redis has it as watched
        self._watch_down_until = 0.0
        self._unsynced: set[str] = set()
        self._unsynced_lock = threading.Lock()
        self.subscribed = threading.Event()  # set while the listener is subscribed

    def publish(self, topic: str, name: str, data: dict) -> LiveEvent:
        return self.publish_many([(topic, name, data)])[0]

    def publish_many(self, items: list[tuple[str, str, dict]]) -> list[LiveEvent]:
        """One pipelined round trip for them all (a fan-out can reach thousands of people).
        Raises redis.RedisError if Redis cannot take them; this process's streams on those
        topics resync then (the caller has committed, so their snapshot shows the change)."""
        if not items:
            return []
        if time.monotonic() < self._down_until:
            self._resync_each(items)
            raise redis.ConnectionError("live: Redis failed a moment ago; not trying again yet")
        texts = [json.dumps(data, separators=(",", ":")) for _, _, data in items]
        now_ms = int(time.time() * 1000)
        try:
            pipe = self._client.pipeline(transaction=False)
            for (topic, name, _), text in zip(items, texts):
                head = json.dumps({"topic": topic, "name": name, "data": text})[:-1] + ',"id":'
                self._script(keys=[f"live:{topic}:seq", f"live:{topic}:log"],
                             args=[now_ms, self._history, self._ttl, head, self._channel], client=pipe)
            ids = pipe.execute()
        except redis.RedisError:
            self._down_until = time.monotonic() + REDIS_DOWN_SECONDS
            self._resync_each(items)
            with self._unsynced_lock:
                self._unsynced.update(topic for topic, _, _ in items)
            self._ensure_listener()  # it tells the other processes once Redis answers again
            raise
        events = [LiveEvent(topic, int(seq), name, text) for (topic, name, _), text, seq in zip(items, texts, ids)]
        for event in events:
            self._local.deliver(event)  # this process's streams need not wait for the round trip
        return events

    def _resync_each(self, items) -> None:
        for topic, _, _ in items:
            self._local.resync(topic)
        if time.monotonic() < self._down_until:
            with self._unsynced_lock:
                self._unsynced.update(topic for topic, _, _ in items)
            self._ensure_listener()

    def _announce_unsynced(self) -> None:
        """Tell every process to resync the topics whose publish failed here. Not the failed
        events themselves: by now another process may have published a newer state, and a
        snapshot from the database is right either way."""
        with self._unsynced_lock:
            topics, self._unsynced = sorted(self._unsynced), set()
        if not topics:
            return
        try:
            self._client.publish(self._resync_channel, json.dumps(topics))
        except redis.RedisError:
            with self._unsynced_lock:
                self._unsynced.update(topics)

    def last_id(self, topic: str) -> int:
        self._ensure_listener()
        # The mirror's too: if Redis forgot the topic, a stream must not take the events the
        # mirror still holds, older than its snapshot, for new ones.
        mirrored = self._local.last_id(topic)
        try:
            return max(int(self._client.get(f"live:{topic}:seq") or 0), mirrored)
        except redis.RedisError:
            return mirrored  # lower than Redis's at worst: events resent, none lost

    def since(self, topic: str, after_id: int) -> list[LiveEvent] | None:
        self._ensure_listener()
        try:
            pipe = self._client.pipeline(transaction=True)
            pipe.lrange(f"live:{topic}:log", 0, -1)
            pipe.get(f"live:{topic}:seq")
            raw, seq = pipe.execute()
        except redis.RedisError:
            return None  # a snapshot from the database instead
        kept = [LiveEvent.from_json(text) for text in raw]
        if not kept and not seq:
            return None if after_id else []
        newer = _newer(kept, after_id, int(seq or 0))
        for event in newer or ():
            self._local.deliver(event)
        return newer

    def wait(self, topic: str, after_id: int, timeout: float) -> list[LiveEvent]:
        self._ensure_listener()
        return self._local.wait(topic, after_id, timeout)

    def generation(self, topic: str) -> int:
        return self._local.generation(topic)

    def waiting(self, topic: str | None = None) -> int:
        return self._local.waiting(topic)

    def watch(self, topic: str, seconds: float) -> None:
        """Also in a Redis sorted set (topic -> expiry), which every process can read. One
        write per topic per process while it is fresh enough: a thousand streams on one
        topic renewing together must not become a thousand Redis calls. A failure here
        only makes publishers treat the topic as unwatched a little early; it does not
        stop publishing (a separate back-off)."""
        self._local.watch(topic, seconds)
        now = time.time()
        with self._watch_lock:
            if self._registered.get(topic, 0) - now > seconds / 2 or time.monotonic() < self._watch_down_until:
                return
            self._registered[topic] = now + seconds
            if len(self._registered) > 2 * MAX_TOPICS:
                self._registered = {t: until for t, until in self._registered.items() if until > now}
        try:
            pipe = self._client.pipeline(transaction=False)
            pipe.zadd(WATCHING, {topic: now + seconds})
            pipe.zremrangebyscore(WATCHING, "-inf", now)
            pipe.execute()
        except redis.RedisError:
            with self._watch_lock:
                self._registered.pop(topic, None)
                self._watch_down_until = time.monotonic() + REDIS_DOWN_SECONDS

    def forget_presence(self) -> None:
        """Write every topic's presence again at its next watch: Redis may have lost them
        (the listener calls this when it resubscribes, e.g. after a Redis restart)."""
        with self._watch_lock:
            self._registered = {}

    def watched(self, topics: Iterable[str]) -> set[str]:
        topics = list(topics)
        if not topics:
            return set()
        try:
            scores = self._client.zmscore(WATCHING, topics)
        except redis.RedisError:
            return set(topics)  # cannot tell: treat them all as watched
        now = time.time()
        return {topic for topic, score in zip(topics, scores) if score is not None and score > now}

    def close(self) -> None:
        """Stop the listener thread (tests; a process that exits needs nothing)."""
        self._stop.set()
        if self._listener is not None:
            self._listener.join(5)

    def _ensure_listener(self) -> None:
        if self._listener is not None and self._listener.is_alive():
            return
        with self._start_lock:
            if self._stop.is_set():
                return
            if self._listener is None or not self._listener.is_alive():
                self._listener = threading.Thread(target=self._listen, name="live-hub", daemon=True)
                self._listener.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            pubsub = self._listen_client.pubsub()
            try:
                pubsub.subscribe(self._channel, self._resync_channel)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if self._unsynced and time.monotonic() >= self._down_until:
                        self._announce_unsynced()
                    if message is None:
                        continue
                    if message["type"] == "subscribe" and message["channel"] == self._channel:
                        # Events published while we were not subscribed (at the start, or
                        # during an outage) never reach us: every stream takes a snapshot.
                        self.subscribed.set()
                        self.forget_presence()
                        self._local.resync_all()
                    elif message["type"] == "message" and message["channel"] == self._resync_channel:
                        for topic in json.loads(message["data"]):
                            self._local.resync(topic)
                    elif message["type"] == "message":
                        self._local.deliver(LiveEvent.from_json(message["data"]))
            except (redis.RedisError, OSError, ValueError, KeyError):
                self.subscribed.clear()
                log.warning("live hub: lost Redis pub/sub; retrying in 1 s", exc_info=True)
                self._stop.wait(1)
            finally:
                try:
                    pubsub.close()
                except Exception:  # noqa: BLE001 - a broken connection may fail to close
                    pass
        self.subscribed.clear()
