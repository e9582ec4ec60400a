"""The API's error surface: every error is a JSON object, never an HTML page.

    {"error": {"code": "validation_failed", "message": "...", "fields": {"lat": ["..."]}}}

Domain errors carry their own HTTP status; HTTP errors raised inside an API view (404, 413
...) are handled on the blueprint. Unknown URLs and wrong methods under /api/ fail while
routing, before any blueprint is chosen, so a before-request hook answers those: an app-wide
404 handler would be overwritten by (or overwrite) the web pages' HTML one.
"""
from __future__ import annotations

import re

from flask import current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, default_exceptions

from api import bp
from errors import DomainError
from extensions import db

API_PATH = "/api"


class ApiError(Exception):
    """A request the API cannot read (as opposed to a domain rule it breaks)."""

    status = 400
    code = "bad_request"
    headers: dict[str, str] = {}

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class MalformedBody(ApiError):
    code = "malformed_body"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


class NotAuthenticated(ApiError):
    status = 401
    code = "not_authenticated"
    headers = {"WWW-Authenticate": 'Bearer realm="fixquest"'}

    def __init__(self):
        super().__init__("Send an API token: Authorization: Bearer <token> (POST /api/v1/tokens issues one).")


class InsufficientScope(ApiError):
    status = 403
    code = "insufficient_scope"
    headers = {"WWW-Authenticate": 'Bearer realm="fixquest", error="insufficient_scope", scope="write"'}

    def __init__(self):
        super().__init__("This token may only read: make a write token to act for you.")


class InvalidToken(ApiError):
    status = 401
    code = "invalid_token"
    headers = {"WWW-Authenticate": 'Bearer realm="fixquest", error="invalid_token"'}

    def __init__(self):
        super().__init__("That API token is not valid (it may have been revoked).")


def error_response(status: int, code: str, message: str, fields: dict | None = None,
                   headers: dict[str, str] | None = None):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="fixquest"')
    return body, status, headers


@bp.errorhandler(DomainError)
def domain_error(error: DomainError):
    """The HTTP status is read from the class: an instance may carry a `status` of its own
    meaning (ClaimNotInState.status is the claim's state, e.g. "submitted")."""
    db.session.rollback()
    return error_response(type(error).status, error.code, error.message, error.fields)


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    db.session.rollback()
    return error_response(error.status, error.code, error.message, headers=error.headers)


def _message(error: HTTPException) -> str:
    if error.code == 404:
        return "There is nothing at this URL."
    if error.code == 405:
        return f"{request.method} is not allowed here; use {', '.join(sorted(error.valid_methods or ()))}."
    if error.code == 413:
        return f"The request is larger than the {current_app.config['MAX_CONTENT_LENGTH']} bytes allowed."
    return error.description or error.name


def http_error(error: HTTPException):
    """HTTP errors as JSON, keeping their headers (e.g. Allow on a 405)."""
    db.session.rollback()
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    code = re.sub(r"[^a-z0-9]+", "_", error.name.lower()).strip("_")
    return error_response(error.code or 500, code, _message(error), headers=headers)


# Handlers keyed by status code win over class-keyed ones, and the app has its own 403/404/413
# pages: register ours for every code so that, inside the blueprint, the JSON one is found first.
for _code in default_exceptions:
    bp.register_error_handler(_code, http_error)
bp.register_error_handler(HTTPException, http_error)


def is_api_path(path: str) -> bool:
    return path == API_PATH or path.startswith(API_PATH + "/")


def _no_rule_takes_the_url(error: MethodNotAllowed) -> bool:
    """Werkzeug answers 405 when the rule for this method refuses a value (an id too large
    for its converter) after another method's rule matched the URL's shape, as for
    POST /teams/<huge id>/requests: if no allowed method's rule takes the URL either, there
    is nothing at it (404)."""
    adapter = current_app.create_url_adapter(request)
    tried = False
    for method in error.valid_methods or ():
        if method in ("HEAD", "OPTIONS"):
            continue
        tried = True
        try:
            adapter.match(request.path, method=method)
        except HTTPException:
            continue
        return False
    return tried


@bp.before_app_request
def routing_error_as_json():
    """An unknown URL or wrong method under /api/: answer in JSON instead of the HTML page."""
    error = request.routing_exception
    if isinstance(error, HTTPException) and (error.code or 0) >= 400 and is_api_path(request.path):
        if isinstance(error, MethodNotAllowed) and _no_rule_takes_the_url(error):
            error = NotFound()
        return http_error(error)
    return None
