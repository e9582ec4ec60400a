"""gunicorn settings for FixQuest: `gunicorn -c gunicorn.conf.py` (README "Running in production").

Live pages hold a Server-Sent Events stream open for as long as they are shown, and a
stream occupies whatever serves its request for its whole life. So:

* Not sync workers: one stream would take a whole worker process, the next page request
  would wait behind it, and the arbiter would kill the worker after `timeout` seconds
  because a sync worker cannot report in while it serves a request.
* gthread workers (chosen): each worker runs `threads` threads; a waiting stream is a
  thread blocked on a Condition, costing a little memory and no CPU, no database
  connection (live/ releases it before streaming) and no Redis connection (one pub/sub
  listener per worker feeds them all). The worker's main loop keeps reporting to the
  arbiter, so `timeout` does not end long streams. No new dependency, and psycopg, redis
  and the job queue run as they do everywhere else.
* gevent would hold streams more cheaply still (greenlets instead of threads), but it
  needs a new dependency and monkey-patching before anything else is imported, and we
  have not verified psycopg 3's compiled build and our background threads under it. If
  you need far more than about a thousand streams per worker, try it behind this config.

The app refuses more than LIVE_MAX_STREAMS streams per worker (503 with Retry-After, which
static/js/live.js retries later), set here from `threads` so some threads stay free for
ordinary page requests. Everything can be overridden from the environment.
"""
from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


wsgi_app = "app:create_app()"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("GUNICORN_WORKERS", 2)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 256)
# gthread accepts at most this many connections per worker (streams plus idle keep-alive ones).
worker_connections = _int("GUNICORN_WORKER_CONNECTIONS", threads + 64)
keepalive = 5  # seconds an idle keep-alive connection is kept; streams are never idle (15 s keepalives)
timeout = 30  # the worker's heartbeat; in gthread a long stream does not count against it
graceful_timeout = 20  # on reload, streams still open then are cut; browsers reconnect with Last-Event-ID

# Threads kept back for page requests; the rest may hold streams.
_reserve = max(8, threads // 8)
os.environ.setdefault("FIXQUEST_LIVE_MAX_STREAMS", str(max(1, threads - _reserve)))
