"""Signing webhook deliveries (pure: no app, no clock of its own).

Every delivery carries the header

    FixQuest-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>

where the HMAC, keyed with the webhook's secret, covers the bytes ``f"{t}."`` followed by
the exact request body. Binding the timestamp into the MAC lets a receiver refuse a
replayed delivery: `verify` rejects a timestamp more than `tolerance` seconds from its
clock. Several ``v1=`` entries may appear (e.g. while a secret is being rotated); one
matching entry is enough. Unknown keys are ignored, so a future scheme can be added
beside v1 without breaking receivers.
"""
from __future__ import annotations

import hashlib
import hmac

HEADER = "FixQuest-Signature"
SCHEME = "v1"
DEFAULT_TOLERANCE = 300


class InvalidSignature(Exception):
    """The header is missing or malformed, the MAC does not match, or the timestamp is
    outside the tolerance window. `reason` says which, for the receiver's logs."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def mac(secret: str | bytes, timestamp: int, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, str(int(timestamp)).encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """The header value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={int(timestamp)},{SCHEME}={mac(secret, timestamp, body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            if not value.isdigit() or timestamp is not None:
                raise InvalidSignature("bad timestamp")
            timestamp = int(value)
        elif key == SCHEME:
            macs.append(value)
    if timestamp is None:
        raise InvalidSignature("no timestamp")
    if not macs:
        raise InvalidSignature(f"no {SCHEME} signature")
    return timestamp, macs


def verify(secret: str | bytes, header: str | None, body: bytes, now: float,
           tolerance: int = DEFAULT_TOLERANCE) -> int:
    """Check a delivery as a receiver would; return its timestamp or raise InvalidSignature.

    A changed body or a wrong secret fails the MAC; an old (replayed) or far-future
    timestamp fails the window, even with a valid MAC."""
    if not header:
        raise InvalidSignature("no signature header")
    timestamp, macs = _parse(header)
    expected = mac(secret, timestamp, body).encode()
    if not any(hmac.compare_digest(expected, candidate.encode("utf-8", "replace")) for candidate in macs):
        raise InvalidSignature("signature does not match")
    if abs(now - timestamp) > tolerance:
        raise InvalidSignature("timestamp outside the tolerance window")
    return timestamp
