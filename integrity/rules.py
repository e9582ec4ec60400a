"""Pure anti-cheating rules: deterministic, on their arguments only, testable without an app."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

DEFAULT_FIX_COOLDOWN_DAYS = 30
DEFAULT_BURST_LIMIT = 8
DEFAULT_BURST_HOURS = 24


def repeat_fix_pays(*, last_paid_fix_at: datetime | None, reopened_at: datetime | None, now: datetime,
                    cooldown: timedelta) -> bool:
    """Does fixing a problem again pay? A problem pays out once per fix cycle: after a paid
    fix, reopening it and fixing it again within `cooldown` of that fix pays nothing; once
    the cool-down has passed a new cycle may pay. Without a reopening since the paid fix
    (several people finishing one quest of an open problem) nothing is held back."""
    if last_paid_fix_at is None or reopened_at is None or reopened_at < last_paid_fix_at:
        return True
    return now - last_paid_fix_at >= cooldown


def unpaid_reason(last_paid_fix_at: datetime, cooldown: timedelta) -> str:
    days = cooldown.days
    return (f"No points: this problem was already fixed and paid for on {last_paid_fix_at:%Y-%m-%d}; "
            f"a problem pays once per fix cycle and it was reopened within the {days}-day cool-down.")


def is_burst(times: Iterable[datetime], *, now: datetime, window: timedelta, limit: int) -> bool:
    """More than `limit` approvals in the `window` up to `now`."""
    start = now - window
    return sum(1 for moment in times if start < moment <= now) > limit
