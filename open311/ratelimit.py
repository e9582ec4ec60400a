"""A fixed-window counter per api_key: Redis INCR + EXPIRE when Redis is configured, an
in-process dict otherwise (one process's view only: fine for one worker, generous with
several). Chosen once per app and kept in app.extensions[LIMITER_KEY]."""
from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

import redis

LIMITER_KEY = "fixquest.open311_limiter"
log = logging.getLogger(__name__)


class RateLimiter(Protocol):
    def hit(self, key: str, *, limit: int, window_s: int, now: float | None = None) -> bool:
        """Count one use of `key`; False once it is over `limit` in the current window."""


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, window_s: int, now: float | None = None) -> bool:
        window = int((time.time() if now is None else now) // window_s)
        with self._lock:
            for stale in [k for k in self._counts if k[1] < window]:
                del self._counts[stale]
            count = self._counts.get((key, window), 0) + 1
            self._counts[(key, window)] = count
        return count <= limit


class RedisRateLimiter:
    """Shared by every worker. If Redis does not answer, the in-process counter decides
    rather than refusing every post."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.fallback = MemoryRateLimiter()

    def hit(self, key: str, *, limit: int, window_s: int, now: float | None = None) -> bool:
        window = int((time.time() if now is None else now) // window_s)
        name = f"fixquest:open311:rate:{key}:{window}"
        try:
            pipe = self.client.pipeline()
            pipe.incr(name)
            pipe.expire(name, window_s * 2, nx=True)
            count = pipe.execute()[0]
        except redis.RedisError as exc:
            log.warning("Open311 rate limit: Redis failed (%s); counting in this process", exc)
            return self.fallback.hit(key, limit=limit, window_s=window_s, now=now)
        return int(count) <= limit


def make_limiter(client: redis.Redis | None) -> RateLimiter:
    return RedisRateLimiter(client) if client is not None else MemoryRateLimiter()
