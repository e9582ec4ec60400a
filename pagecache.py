"""Visitors' pages from memory (README, "Fast pages for visitors").

Most page views on a civic site are visitors' (a link shared in a local group, the town's
map on a projector): nobody signed in, nothing personal on the page, the same bytes for
everyone who asks within a few seconds. So each worker process keeps the answers of the
pages marked with `@for_visitors` and serves them again, without running Flask, for
VISITOR_CACHE_SECONDS (default 10; 0 turns it off).

Who gets a kept page: a GET with no Authorization header and no cookie apart from the
language one. A signed-in person always has the session cookie, and so does anyone with a
flash message or a form token waiting, so all of them are served fresh, every time.
What is kept: a 200 answer of a marked page, without Set-Cookie and not marked private or
no-store, keyed by host, path, query string, the language cookie and Accept-Language
(everything a visitor's page depends on); at most VISITOR_CACHE_ENTRIES pages and
VISITOR_CACHE_MAX_BYTES of bodies per process, the oldest dropped first.
Freshness: a commit in this process that wrote anything (a report, a claim, a moderator
hiding a post) empties this process's cache at once; other worker processes catch up
within VISITOR_CACHE_SECONDS. A kept answer says how old it is (Age) and answers
If-None-Match with 304 when it carries an ETag.

Why in-process rather than in Redis: one Redis round trip costs about half of what a bare
Flask request does on our 2-core machine (BENCHMARKS.md), and the point is to be cheaper
than Flask; a few seconds of staleness per process is the whole price.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import wraps

from flask import Flask, current_app, g, request
from flask_login import current_user
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from werkzeug.http import parse_cookie

import aftercommit
from i18n import COOKIE as LANGUAGE_COOKIE, supported

CANDIDATE = "fixquest.visitor_page"  # environ key: this request may be answered from the cache
MARK = "X-FixQuest-Keep-For-Visitors"  # the app's answer may be kept (never sent on)
COMMIT_KEY = "pagecache:wrote"


@dataclass
class Kept:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str | None
    stored: float


class VisitorPageCache:
    """WSGI middleware around the Flask app (`app.wsgi_app`)."""

    def __init__(self, wsgi_app, *, seconds: float, entries: int, max_bytes: int):
        self.wsgi_app = wsgi_app
        self.seconds = seconds
        self.entries = entries
        self.max_bytes = max_bytes
        self._kept: OrderedDict[tuple, Kept] = OrderedDict()
        self._bytes = 0
        self._generation = 0  # moved on by each clear(): a page begun before it is not kept
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._bytes = 0
            self._generation += 1

    def __len__(self) -> int:
        return len(self._kept)

    def __call__(self, environ, start_response):
        key = self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        now = time.monotonic()
        with self._lock:
            generation = self._generation
            kept = self._kept.get(key)
            if kept is not None and now - kept.stored >= self.seconds:
                self._drop(key)
                kept = None
        if kept is not None:
            return self._serve(kept, environ, start_response, now)
        environ[CANDIDATE] = True
        answer: dict = {}

        def capture(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, headers
            if not any(name == MARK for name, _ in headers):
                return start_response(status, headers, exc_info)
            return lambda data: None  # not used: Flask returns its body as an iterable

        chunks = self.wsgi_app(environ, capture)
        if "headers" not in answer or not any(name == MARK for name, _ in answer["headers"]):
            return chunks  # the app has called start_response already with its answer
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = [(name, value) for name, value in answer["headers"] if name != MARK]
        if self._keepable(answer["status"], headers, body):
            etag = next((value for name, value in headers if name.lower() == "etag"), None)
            with self._lock:
                if generation == self._generation:  # else a write committed while this page was built
                    if key in self._kept:
                        self._drop(key)
                    self._kept[key] = Kept(answer["status"], headers, body, etag, now)
                    self._bytes += len(body)
                    while len(self._kept) > self.entries or self._bytes > self.max_bytes:
                        self._drop(next(iter(self._kept)))  # the oldest
        start_response(answer["status"], list(headers))  # a copy: nothing outside changes what is kept
        return [body]

    @property
    def size(self) -> int:
        """The bytes of the bodies kept."""
        return self._bytes

    def _drop(self, key: tuple) -> None:
        """Forget one page (the lock is held)."""
        self._bytes -= len(self._kept.pop(key).body)

    @staticmethod
    def _key(environ) -> tuple | None:
        """What the page depends on, for a visitor's GET; None when this request is not one."""
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("HTTP_AUTHORIZATION"):
            return None
        language = ""
        if environ.get("HTTP_COOKIE"):
            # Read as Flask reads them (werkzeug's parser), so the key and the page agree.
            cookies = parse_cookie(environ)
            if set(cookies) - {LANGUAGE_COOKIE} or len(cookies.getlist(LANGUAGE_COOKIE)) > 1:
                return None  # a session (signed in, a flash, a form token), anything unknown, or doubt
            language = supported(cookies.get(LANGUAGE_COOKIE)) or ""
        return (environ.get("HTTP_HOST", ""), environ.get("wsgi.url_scheme", ""), environ.get("SCRIPT_NAME", ""),
                environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), language,
                environ.get("HTTP_ACCEPT_LANGUAGE", ""))

    def _keepable(self, status: str, headers: list[tuple[str, str]], body: bytes) -> bool:
        if not status.startswith("200 ") or len(body) > self.max_bytes:
            return False
        for name, value in headers:
            lowered = name.lower()
            if lowered == "set-cookie":
                return False
            if lowered == "cache-control" and ("private" in value or "no-store" in value):
                return False
        return True

    def _serve(self, kept: Kept, environ, start_response, now: float):
        age = ("Age", str(int(now - kept.stored)))
        if kept.etag and kept.etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            headers = [(n, v) for n, v in kept.headers if n.lower() not in ("content-length", "content-type")]
            start_response("304 NOT MODIFIED", headers + [age])
            return [b""]
        start_response(kept.status, kept.headers + [age])
        return [kept.body]


def for_visitors(view):
    """Mark a page whose visitor's view may be kept (see the module's docstring). Only for
    pages whose answer to a visitor depends on nothing but the URL and the language."""
    @wraps(view)
    def marked(*args, **kwargs):
        g.keep_for_visitors = True
        return view(*args, **kwargs)
    return marked


def cache_of(app: Flask) -> VisitorPageCache | None:
    return app.extensions.get("pagecache")


def _mark(response):
    if (g.get("keep_for_visitors") and request.environ.get(CANDIDATE) and response.status_code == 200
            and set(request.cookies) <= {LANGUAGE_COOKIE} and not current_user.is_authenticated):
        response.headers[MARK] = "1"
    return response


def _wrote(session, *args) -> None:
    aftercommit.queue(session, COMMIT_KEY, True)


def _wrote_by_statement(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        aftercommit.queue(state.session, COMMIT_KEY, True)


def _forget(items) -> None:
    cache = cache_of(current_app)
    if cache is not None:
        cache.clear()


def init_app(app: Flask) -> None:
    seconds = app.config.get("VISITOR_CACHE_SECONDS", 10)
    if not seconds:
        return
    cache = VisitorPageCache(app.wsgi_app, seconds=seconds,
                             entries=app.config.get("VISITOR_CACHE_ENTRIES", 512),
                             max_bytes=app.config.get("VISITOR_CACHE_MAX_BYTES", 32 * 1024 * 1024))
    app.wsgi_app = cache
    app.extensions["pagecache"] = cache
    app.after_request(_mark)
    aftercommit.on_commit(COMMIT_KEY, _forget)
    if not event.contains(FlaskSession, "after_flush", _wrote):
        event.listen(FlaskSession, "after_flush", _wrote)
        event.listen(FlaskSession, "do_orm_execute", _wrote_by_statement)
