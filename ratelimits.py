"""Rate limits on the requests worth abusing: logging in, registering, reporting, confirming,
claiming, submitting evidence, issuing API tokens, and the open data bulk downloads.

The rules live in one table, LIMITS: endpoint name -> limit, whose budget a request spends
and which methods count. `init_app` wraps those views in `app.view_functions` after the
blueprints are registered, so no view knows about limits. Only POSTs count (reading a form
never does), except on rows that say otherwise: a bulk download is a GET that streams a
whole table, so those GETs count.

Counters are kept by Flask-Limiter in Redis when REDIS_URL is set (shared by every worker),
else in the process's memory. If Redis stops answering, the limiter logs it and counts in
memory (per worker) until Redis is back: a Redis outage weakens the limits, it never fails
a request.

Each app gets its own Limiter (`make_limiter`, kept in app.extensions), made unconfigured
and bound in `init_app` like the other extensions.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from flask import Flask, current_app, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_login import current_user
from limits import parse_many

from config import ConfigError

EXTENSION_KEY = "fixquest.ratelimits"  # endpoint -> the limit in force
LIMITER_KEY = "fixquest.limiter"
log = logging.getLogger(__name__)


# --- whose budget a request spends -------------------------------------------------------

def client_ip() -> str:
    """The client's address. X-Forwarded-For is read only when TRUSTED_PROXIES says how
    many proxies of ours stand in front of the app (then the address the outermost one saw,
    as werkzeug's ProxyFix reads it); otherwise anyone could pick their own address."""
    hops = current_app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.remote_addr or "unknown"


def by_ip() -> str:
    return "ip:" + client_ip()


def by_user_or_ip() -> str:
    """The logged-in person (wherever they connect from), else the address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return by_ip()


def by_token_user_or_ip() -> str:
    """The API token's user; a missing or bad token spends its address's budget (the view
    answers 401 afterwards)."""
    from api.auth import optional_bearer_user

    user = optional_bearer_user()
    return f"user:{user.id}" if user is not None else by_ip()


# --- the table -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    limit: str  # Flask-Limiter notation; "10/minute;50/hour" means both must hold
    key: Callable[[], str]
    methods: tuple[str, ...] = ("POST",)  # the methods that spend the budget


LIMITS: dict[str, Rule] = {
    "accounts.login": Rule("10/minute;50/hour", by_ip),
    "accounts.delete_account": Rule("5/hour", by_user_or_ip),  # the password is checked: no guessing
    "accounts.register": Rule("5/hour", by_ip),
    "accounts.request_password_reset": Rule("5/hour", by_ip),
    "accounts.resend_verification": Rule("3/hour", by_user_or_ip),
    "accounts.tokens": Rule("20/hour", by_user_or_ip),
    "challenges.new_problem": Rule("20/hour", by_user_or_ip),
    "challenges.confirm": Rule("60/hour", by_user_or_ip),
    "challenges.claim": Rule("30/hour", by_user_or_ip),
    "challenges.submit": Rule("30/hour", by_user_or_ip),
    "api.create_token": Rule("10/minute", by_ip),
    "api.report_problem": Rule("20/hour", by_token_user_or_ip),
    "api.confirm_problem": Rule("60/hour", by_token_user_or_ip),
    "api.claim_quest": Rule("30/hour", by_token_user_or_ip),
    "api.submit_evidence": Rule("30/hour", by_token_user_or_ip),
    "moderation.flag": Rule("30/hour", by_user_or_ip),
    "api.flag": Rule("30/hour", by_token_user_or_ip),
    "api.delete_me": Rule("5/hour", by_token_user_or_ip, methods=("DELETE",)),  # the password is checked
    # Each photo is decoded and re-encoded: as many as the evidence form's submissions.
    "api.add_problem_photos": Rule("30/hour", by_token_user_or_ip),
    "api.add_update_photos": Rule("30/hour", by_token_user_or_ip),
    "api.add_claim_photos": Rule("30/hour", by_token_user_or_ip),
    "api.add_fix_story_photos": Rule("30/hour", by_token_user_or_ip),
    "classes.login": Rule("60/minute;600/hour", by_ip),  # a whole class logs in from one school address
    # Each download streams a whole table (up to a million rows): generous for a person or a
    # nightly mirror, not for a loop. The catalogue (/data, /data.json) is not limited.
    "opendata.download": Rule("30/minute;300/hour", by_ip, methods=("GET",)),
}

# Rows whose view does not exist yet (none now). Every row must name a real endpoint, so a
# renamed view fails at start instead of going unlimited.
NOT_YET_ROUTED: frozenset[str] = frozenset()


def make_limiter() -> Limiter:
    """A Limiter for one app. Not one shared module-level instance: Flask-Limiter keeps its
    storage, its "Redis is down" flag and its on/off switch on the instance, so apps sharing
    one (as tests build them) would count in each other's storage."""
    return Limiter(
        key_func=by_ip,
        key_prefix="fixquest",
        strategy="fixed-window",
        swallow_errors=True,  # a storage error lets the request through (and is logged)
        in_memory_fallback_enabled=True,  # ... and counting carries on in memory until Redis is back
        headers_enabled=False,  # it would put Retry-After on every answer, even a login's redirect
        storage_options={"socket_timeout": 1, "socket_connect_timeout": 1},  # fail fast, as make_redis
    )


def limiter_of(app: Flask) -> Limiter | None:
    """The app's Limiter; None when rate limits are off."""
    return app.extensions.get(LIMITER_KEY)


def effective_limits(overrides: dict[str, str]) -> dict[str, str]:
    """The table's limits with the app's overrides (RATELIMIT_OVERRIDES), all checked."""
    unknown = sorted(set(overrides) - set(LIMITS))
    if unknown:
        raise ConfigError(f"No rate limit to override for {', '.join(unknown)}; "
                          f"the limited endpoints are {', '.join(sorted(LIMITS))}.")
    limits = {endpoint: overrides.get(endpoint, rule.limit) for endpoint, rule in LIMITS.items()}
    for endpoint, value in limits.items():
        try:
            parse_many(value)
        except ValueError:
            raise ConfigError(f"Rate limit for {endpoint} must look like '10/minute;50/hour', not {value!r}.") from None
    return limits


def init_app(app: Flask) -> None:
    """Limit the table's views. Call after the blueprints are registered."""
    app.extensions[EXTENSION_KEY] = effective_limits(app.config.get("RATELIMIT_OVERRIDES") or {})
    missing = sorted(set(LIMITS) - set(app.view_functions) - NOT_YET_ROUTED)
    if missing:
        raise RuntimeError(f"ratelimits.LIMITS names endpoints that do not exist: {', '.join(missing)}")
    if not app.config.get("RATELIMIT_ENABLED", True):
        return
    app.config["RATELIMIT_STORAGE_URI"] = (app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL")
                                           or "memory://")
    limiter = app.extensions[LIMITER_KEY] = make_limiter()
    limiter.init_app(app)
    for endpoint, rule in LIMITS.items():
        if endpoint in app.view_functions:
            limited = limiter.limit(app.extensions[EXTENSION_KEY][endpoint], key_func=rule.key, methods=list(rule.methods))
            app.view_functions[endpoint] = _answering_429(limited(app.view_functions[endpoint]))
    app.register_error_handler(RateLimitExceeded, too_many_requests)


def _answering_429(view: Callable) -> Callable:
    """Answer a breach inside the view: the API blueprint's own error handler for 429 would
    otherwise win over the app's and answer with a generic error code."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except RateLimitExceeded as error:
            return too_many_requests(error)
    return wrapper


# --- the answer ------------------------------------------------------------------------------

def retry_after_seconds(error: RateLimitExceeded) -> int:
    """Seconds until the breached window resets (its whole length if storage cannot say)."""
    limiter = limiter_of(current_app)
    breached = limiter.current_limit if limiter is not None else None
    try:
        reset_at = breached.window.reset_time if breached is not None else None
    except Exception:  # noqa: BLE001 - storage trouble: fall back to the window's length
        log.warning("Could not read the rate limit window; answering with its full length.")
        reset_at = None
    if reset_at is None:
        return error.limit.limit.get_expiry()
    return max(1, math.ceil(reset_at - time.time()))


def describe_wait(seconds: int) -> str:
    if seconds <= 60:
        return "a minute"
    if seconds < 3600:
        return f"{math.ceil(seconds / 60)} minutes"
    hours = math.ceil(seconds / 3600)
    return "an hour" if hours == 1 else f"{hours} hours"


def too_many_requests(error: RateLimitExceeded):
    """429 with Retry-After, in the surface's own error format."""
    from api.errors import error_response, is_api_path
    from open311 import formats

    wait = retry_after_seconds(error)
    headers = {"Retry-After": str(wait)}
    message = f"That is a lot of requests in a short time. Please wait {describe_wait(wait)} and try again."
    if is_api_path(request.path):
        return error_response(429, "rate_limited", message, headers=headers)
    if request.path.startswith("/open311/"):
        response = formats.respond_errors((request.view_args or {}).get("fmt", "xml"), 429, [message])
        response.headers.update(headers)
        return response
    return render_template("error.html", title="Please slow down", message=message), 429, headers
