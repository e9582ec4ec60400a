"""The hub: where live events are published and where streams wait for them.

An event is (id, name, data) on a topic such as "event:7:scoreboard". Ids rise by one per
topic, so a stream that reconnects with Last-Event-ID gets what it missed from the topic's
recent history (the last HISTORY events) instead of starting over.

Two hubs behind one interface, chosen once in create_app:
* LocalHub keeps each topic's history in memory and wakes waiting streams with a
  Condition. One process only: the default without Redis, and the dev server.
* RedisHub numbers events with INCR, keeps the history in a Redis list (so any worker on
  any machine can replay it) and announces each event on a pub/sub channel. One listener
  thread per process turns those announcements into a LocalHub delivery, so a thousand
  streams in one worker share one Redis connection and no database connection.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import redis

log = logging.getLogger(__name__)

HISTORY = 100
CHANNEL = "live:events"


@dataclass(frozen=True)
class LiveEvent:
    topic: str
    id: int
    name: str
    data: str  # JSON text, sent as it is

    def to_json(self) -> str:
        return json.dumps({"topic": self.topic, "id": self.id, "name": self.name, "data": self.data})

    @classmethod
    def from_json(cls, text: str) -> LiveEvent:
        raw = json.loads(text)
        return cls(raw["topic"], int(raw["id"]), raw["name"], raw["data"])


class Hub(Protocol):
    def publish(self, topic: str, name: str, data: dict) -> LiveEvent: ...

    def last_id(self, topic: str) -> int: ...

    def since(self, topic: str, after_id: int) -> list[LiveEvent] | None:
        """Events after after_id, oldest first; None when some are no longer kept."""

    def wait(self, topic: str, after_id: int, timeout: float) -> list[LiveEvent]:
        """Block until there are events after after_id (or timeout); never touches SQL."""


class LocalHub:
    def __init__(self, history: int = HISTORY):
        self._history = history
        self._topics: dict[str, deque[LiveEvent]] = {}
        self._last: dict[str, int] = {}
        self._changed = threading.Condition()

    def publish(self, topic: str, name: str, data: dict) -> LiveEvent:
        with self._changed:
            event = LiveEvent(topic, self._last.get(topic, 0) + 1, name, json.dumps(data, separators=(",", ":")))
            self._deliver(event)
            return event

    def deliver(self, event: LiveEvent) -> None:
        """Take an event numbered elsewhere (RedisHub's listener)."""
        with self._changed:
            if event.id > self._last.get(event.topic, 0):
                self._deliver(event)

    def _deliver(self, event: LiveEvent) -> None:
        self._topics.setdefault(event.topic, deque(maxlen=self._history)).append(event)
        self._last[event.topic] = event.id
        self._changed.notify_all()

    def last_id(self, topic: str) -> int:
        with self._changed:
            return self._last.get(topic, 0)

    def since(self, topic: str, after_id: int) -> list[LiveEvent] | None:
        with self._changed:
            return self._since(topic, after_id)

    def _since(self, topic: str, after_id: int) -> list[LiveEvent] | None:
        kept = self._topics.get(topic, ())
        newer = [e for e in kept if e.id > after_id]
        last = self._last.get(topic, 0)
        if after_id > last:
            return None  # an id from another life of this hub: start over
        if newer and newer[0].id != after_id + 1:
            return None
        return newer

    def wait(self, topic: str, after_id: int, timeout: float) -> list[LiveEvent]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                # Each event carries a whole state, so a stream skips a gap rather than waits.
                newer = [e for e in self._topics.get(topic, ()) if e.id > after_id]
                remaining = deadline - time.monotonic()
                if newer or remaining <= 0:
                    return newer
                self._changed.wait(remaining)


class RedisHub:
    def __init__(self, client: redis.Redis, listen_client: redis.Redis, history: int = HISTORY,
                 ttl: int = 86400):
        self._client = client
        self._listen_client = listen_client  # no socket timeout: it idles between events
        self._history = history
        self._ttl = ttl
        self._local = LocalHub(history)
        self._listener: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def publish(self, topic: str, name: str, data: dict) -> LiveEvent:
        seq = self._client.incr(f"live:{topic}:seq")
        event = LiveEvent(topic, int(seq), name, json.dumps(data, separators=(",", ":")))
        pipe = self._client.pipeline()
        pipe.rpush(f"live:{topic}:log", event.to_json())
        pipe.ltrim(f"live:{topic}:log", -self._history, -1)
        pipe.expire(f"live:{topic}:log", self._ttl)
        pipe.expire(f"live:{topic}:seq", self._ttl)
        pipe.publish(CHANNEL, event.to_json())
        pipe.execute()
        self._local.deliver(event)
        return event

    def last_id(self, topic: str) -> int:
        self._ensure_listener()
        return int(self._client.get(f"live:{topic}:seq") or 0)

    def since(self, topic: str, after_id: int) -> list[LiveEvent] | None:
        self._ensure_listener()
        kept = [LiveEvent.from_json(t) for t in self._client.lrange(f"live:{topic}:log", 0, -1)]
        newer = [e for e in kept if e.id > after_id]
        if after_id > (kept[-1].id if kept else 0) and after_id > self.last_id(topic):
            return None
        if newer and newer[0].id != after_id + 1:
            return None
        for event in newer:
            self._local.deliver(event)
        return newer

    def wait(self, topic: str, after_id: int, timeout: float) -> list[LiveEvent]:
        self._ensure_listener()
        return self._local.wait(topic, after_id, timeout)

    def _ensure_listener(self) -> None:
        if self._listener is not None and self._listener.is_alive():
            return
        with self._start_lock:
            if self._listener is None or not self._listener.is_alive():
                self._listener = threading.Thread(target=self._listen, name="live-hub", daemon=True)
                self._listener.start()

    def _listen(self) -> None:
        while True:
            try:
                pubsub = self._listen_client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._local.deliver(LiveEvent.from_json(message["data"]))
            except (redis.RedisError, OSError, ValueError):
                log.warning("live hub: lost Redis pub/sub; retrying in 1 s", exc_info=True)
                time.sleep(1)
