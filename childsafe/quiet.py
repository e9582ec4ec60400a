"""Quiet hours: no notification reaches a child outside school hours.

CHILD_QUIET_HOURS is "HH:MM-HH:MM" in the site's zone (TIMEZONE); a range that wraps past
midnight ("18:00-08:00") is quiet from the evening to the next morning. CHILD_QUIET_DAYS
names whole quiet days ("sat,sun"). Pure: no app, no database.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BadQuietHours(ValueError):
    pass


@dataclass(frozen=True)
class QuietHours:
    starts: time
    ends: time
    days: frozenset[int]  # weekday numbers (Monday 0) that are quiet all day
    zone: ZoneInfo

    def is_quiet(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        if local.weekday() in self.days:
            return True
        clock = local.time()
        if self.starts == self.ends:
            return False  # no quiet hours on school days
        if self.starts < self.ends:
            return self.starts <= clock < self.ends
        return clock >= self.starts or clock < self.ends

    def ends_after(self, now: datetime) -> datetime:
        """The first moment at or after `now` (aware) that is not quiet, jumping from
        boundary to boundary (a quiet day's midnight, the end of a quiet evening)."""
        moment = now
        while self.is_quiet(moment):  # parse refuses a week with no school day, so this ends
            local = moment.astimezone(self.zone)
            if local.weekday() in self.days:
                nxt = datetime.combine(local.date() + timedelta(days=1), time(0), self.zone)
            else:
                nxt = datetime.combine(local.date(), self.ends, self.zone)
                if nxt <= local:
                    nxt = datetime.combine(local.date() + timedelta(days=1), self.ends, self.zone)
            moment = nxt.astimezone(now.tzinfo)
        return moment


def _clock(text: str) -> time:
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise BadQuietHours(f"{text.strip()!r} is not a time like 18:00.") from None


def parse(hours: str, days: str, zone: str) -> QuietHours:
    """Read the two settings; BadQuietHours says what is wrong."""
    if "-" not in hours:
        raise BadQuietHours(f'CHILD_QUIET_HOURS must be "HH:MM-HH:MM", like "18:00-08:00", not {hours!r}.')
    start, end = hours.split("-", 1)
    names = [d.strip().lower()[:3] for d in days.split(",") if d.strip()]
    unknown = [d for d in names if d not in DAYS]
    if unknown:
        raise BadQuietHours(f"CHILD_QUIET_DAYS names days as mon,tue,...,sun, not {', '.join(unknown)}.")
    if len(set(names)) == 7:
        raise BadQuietHours("CHILD_QUIET_DAYS cannot make every day quiet.")
    return QuietHours(_clock(start), _clock(end), frozenset(DAYS.index(d) for d in names), ZoneInfo(zone))


def from_config(config) -> QuietHours:
    return parse(config.get("CHILD_QUIET_HOURS", "18:00-08:00"), config.get("CHILD_QUIET_DAYS", "sat,sun"),
                 config.get("TIMEZONE", "Europe/London"))
