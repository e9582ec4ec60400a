"""The domain error base class.

Services raise subclasses with attributes (never codes packed into strings); each surface
(web pages, JSON API) has one handler that turns them into a flashed message or a JSON
error object. `status` is the HTTP status the error means, `code` a stable machine name.
"""
from __future__ import annotations


class DomainError(Exception):
    status: int = 400
    code: str = "domain_error"

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(DomainError):
    status = 404
    code = "not_found"

    def __init__(self, kind: str, ident: object):
        super().__init__(f"No {kind} with id {ident}.")
        self.kind = kind
        self.ident = ident


class Forbidden(DomainError):
    status = 403
    code = "forbidden"

    def __init__(self, action: str, reason: str):
        super().__init__(f"You may not {action}: {reason}")
        self.action = action
        self.reason = reason


class Conflict(DomainError):
    status = 409
    code = "conflict"


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__("Some fields need attention.", fields=fields)
