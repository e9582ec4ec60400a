"""Signed, expiring one-click unsubscribe tokens (no login needed).

A token is an itsdangerous URLSafeTimedSerializer value under its own salt, so a session
cookie or CSRF token can never be replayed as one. It carries the subscription id and the
user id ({"s": ..., "u": ...}); a digest email's token carries {"d": 1, "u": ...} instead
and stops the person's digest emails. The user id is checked against the subscription, so
a token never acts on a subscription that later got the same id.
"""
from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from errors import DomainError

SALT = "fixquest.unsubscribe.v1"


class BadUnsubscribeToken(DomainError):
    status = 400
    code = "bad_unsubscribe_token"

    def __init__(self):
        super().__init__("This unsubscribe link is not valid: it may have been cut short or changed.")


class ExpiredUnsubscribeToken(DomainError):
    status = 400
    code = "expired_unsubscribe_token"

    def __init__(self, max_age_days: int):
        super().__init__(f"This unsubscribe link is more than {max_age_days} days old and has expired.")
        self.max_age_days = max_age_days


@dataclass(frozen=True)
class UnsubscribeRequest:
    user_id: int
    subscription_id: int | None  # None: stop digest emails

    @property
    def is_digest(self) -> bool:
        return self.subscription_id is None


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def make_token(secret_key: str, *, user_id: int, subscription_id: int | None) -> str:
    payload = {"u": user_id, "s": subscription_id} if subscription_id is not None else {"u": user_id, "d": 1}
    return _serializer(secret_key).dumps(payload)


def read_token(secret_key: str, token: str, *, max_age_days: int) -> UnsubscribeRequest:
    try:
        payload = _serializer(secret_key).loads(token, max_age=max_age_days * 86400)
    except SignatureExpired:
        raise ExpiredUnsubscribeToken(max_age_days) from None
    except BadData:
        raise BadUnsubscribeToken() from None
    if not isinstance(payload, dict) or not _is_id(payload.get("u")):
        raise BadUnsubscribeToken()
    if payload.get("d") == 1 and "s" not in payload:
        return UnsubscribeRequest(user_id=payload["u"], subscription_id=None)
    if not _is_id(payload.get("s")):
        raise BadUnsubscribeToken()
    return UnsubscribeRequest(user_id=payload["u"], subscription_id=payload["s"])


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63
