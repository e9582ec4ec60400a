"""Leaderboard backends for tests: the app's SQL one, or a Redis projection on the test
Redis (REDIS_URL) or, on the SQLite run, fakeredis. The fixtures are in conftest.py."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import fakeredis

from extensions import db, make_redis
from scoring.leaderboards import RedisLeaderboard, SqlLeaderboard


def redis_client():
    url = os.environ.get("REDIS_URL")
    return make_redis(url) if url else fakeredis.FakeRedis(decode_responses=True)


@contextmanager
def installed(app, kind: str, *, prefix: str = "test:") -> Iterator:
    """The app on a fresh leaderboard of `kind` ("sql" or "redis") until the block ends."""
    sql = SqlLeaderboard(lambda: db.engine)
    backend = sql if kind == "sql" else RedisLeaderboard(redis_client(), sql, prefix=prefix)
    if kind == "redis":
        backend.client.flushdb()
    previous, app.extensions["fixquest.leaderboard"] = app.extensions["fixquest.leaderboard"], backend
    try:
        yield backend
    finally:
        app.extensions["fixquest.leaderboard"] = previous
