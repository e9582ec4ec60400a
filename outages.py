"""The database going away: a clean 503 on every surface instead of a 500.

While PostgreSQL restarts (or SQLite is locked past its timeout) a request that needs the
database gets "503 Service Unavailable" with `Retry-After`: a plain page on the web (one
that does not itself need the database: no signed-in header, no unread count), the API's
error object under /api/, and an Open311 error list under /open311/. Nothing was written:
the request's transaction is rolled back (or died with its connection).

Recovery needs no restart: the engine pings a pooled connection before handing it out
(`pool_pre_ping`, config.py), so connections broken by the restart are replaced on first
use. That is the only retry, and it is safe because no statement has run yet; a request
whose statement failed is not replayed (it might have been a write).
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, request
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from extensions import db

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
MESSAGE = "FixQuest cannot reach its database just now. Nothing you sent was saved; please try again in a moment."


# The database unreachable, restarting, or its connection lost (InterfaceError: "the
# connection is closed"); not a constraint or a bug in a query.
OUTAGES = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


def _forget_session() -> None:
    """Drop the request's session; its connection may be dead, so errors here are expected."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the pool replaces it
        pass
    try:
        db.session.remove()
    except Exception:  # noqa: BLE001
        pass


def unavailable(error: Exception):
    log.warning("database unavailable on %s %s: %s", request.method, request.path, str(error).splitlines()[0])
    _forget_session()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path == "/api" or request.path.startswith("/api/"):
        from api.errors import error_response

        return error_response(503, "unavailable", MESSAGE, headers=headers)
    if request.path.startswith("/open311/"):
        from open311 import formats

        response = formats.respond_errors((request.view_args or {}).get("fmt", "xml"), 503, [MESSAGE])
        response.headers.update(headers)
        return response
    # Straight from the Jinja environment: the context processors would load the signed-in
    # person (Flask-Login) and their unread count, from the database that is away.
    page = current_app.jinja_env.get_template("unavailable.html").render(message=MESSAGE, request=request)
    return page, 503, headers


def _end_session(error: BaseException | None = None) -> None:
    """Ends the request's session before Flask-SQLAlchemy's own teardown does (teardowns run
    last registered first). If the database went away after the answer was made, closing
    the session fails on its dead connection (the rollback); that must not turn an answer
    already made into a 500 (the fault drill caught one during a PostgreSQL restart)."""
    try:
        db.session.remove()
    except OUTAGES as failure:
        log.warning("database unavailable while ending a request's session: %s", str(failure).splitlines()[0])
        db.session.registry.clear()  # its connection was invalidated; the pool replaces it


def init_app(app: Flask) -> None:
    for error in OUTAGES:
        app.register_error_handler(error, unavailable)
    app.teardown_appcontext(_end_session)  # after db.init_app, so it runs before its teardown
