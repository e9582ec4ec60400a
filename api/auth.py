"""Bearer-token authentication. The API ignores the session cookie: no token, no user."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import request

from accounts.models import User
from accounts.services import user_for_token
from api.errors import InvalidToken, NotAuthenticated
from extensions import db


def bearer_user() -> User:
    """The user whose token is in the Authorization header; 401 without a valid one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated()
    user = user_for_token(db.session, token)
    if user is None:
        raise InvalidToken()
    return user


def optional_bearer_user() -> User | None:
    """The token's user when a valid token is sent, else None (for public reads that show
    a little more to the right people)."""
    if not request.headers.get("Authorization"):
        return None
    try:
        return bearer_user()
    except (NotAuthenticated, InvalidToken):
        return None


def token_required(view: Callable) -> Callable:
    """Authenticate before the view runs and pass the user in as `actor`."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, actor=bearer_user(), **kwargs)
    return wrapper
