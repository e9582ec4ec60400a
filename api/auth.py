"""Bearer-token authentication. The API ignores the session cookie: no token, no user."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import request

from accounts.models import User
from accounts.services import token_row
from api.errors import InsufficientScope, InvalidToken, NotAuthenticated
from extensions import db
from moderation.suspension import AccountSuspended, check_not_suspended


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def bearer_user() -> User:
    """The user whose token is in the Authorization header; 401 without a valid one, 403
    when a read-only token tries to change something (RFC 6750 insufficient_scope)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated()
    row = token_row(db.session, token)
    if row is None:
        raise InvalidToken()
    if row.scope != "write" and request.method not in READ_METHODS:
        raise InsufficientScope()
    check_not_suspended(row.user)  # 403 account_suspended, with the reason
    return row.user


def optional_bearer_user() -> User | None:
    """The token's user when a valid token is sent, else None (for public reads that show
    a little more to the right people)."""
    if not request.headers.get("Authorization"):
        return None
    try:
        return bearer_user()
    except (NotAuthenticated, InvalidToken, AccountSuspended):
        return None


def token_required(view: Callable) -> Callable:
    """Authenticate before the view runs and pass the user in as `actor`."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, actor=bearer_user(), **kwargs)
    return wrapper
