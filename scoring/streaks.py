"""Weekly streaks: consecutive weeks with at least one approved contribution.

The rules, precisely:

- A week is an ISO 8601 week (Monday to Sunday) in the site's zone (TIMEZONE), named by
  its Monday. Week 53 is an ordinary week: weeks are consecutive when their Mondays are
  seven days apart, so a streak runs across New Year whether the year has 52 or 53 weeks.
- A week is *active* when the person has at least one approved contribution in it: a
  claim of theirs that was approved (placed in the week it was submitted, see
  scoring.badges.contributions) or a review they completed.
- A streak is a run of active weeks. A missed week between them is *forgiven*, keeping
  the run alive, if no other week of the same calendar month has been forgiven in that
  run; a second missed week in one month ends it. A week belongs to the month of its
  Thursday (the month holding most of its days, as ISO 8601 assigns weeks to years), so
  the week of Monday 29 December 2025 is a January 2026 week.
- The current week (the one holding `today`) is still in progress: it counts if it is
  already active, and is never a miss.
- `weeks` counts the active weeks of the current streak (forgiven weeks keep it alive but
  do not add to it); `forgiven` is how many missed weeks it has survived; both are 0 when
  there is no current streak. `best` is the most active weeks any streak has had,
  the current one included.
- Streaks can be switched off for a person (class members, later): `enabled=False` gives
  an empty Streak marked disabled.

Pure: no app, no database. scoring.badges loads the contribution times.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

ONE_WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Streak:
    weeks: int
    forgiven: int
    best: int
    enabled: bool = True


def week_start(day: date) -> date:
    """The Monday of the ISO week holding `day`."""
    return day - timedelta(days=day.weekday())


def local_week(moment: datetime, zone: str | ZoneInfo) -> date:
    """The Monday of the ISO week holding an aware `moment`, in `zone`."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return week_start(moment.astimezone(tz).date())


def month_of_week(monday: date) -> tuple[int, int]:
    """(year, month) a week belongs to: its Thursday's."""
    thursday = monday + timedelta(days=3)
    return thursday.year, thursday.month


def weekly_streak(active_weeks: Iterable[date], *, today: date, enabled: bool = True) -> Streak:
    """The streak on `today` given the weeks with a contribution (any day of a week names
    it; Mondays are expected). Weeks after today's are ignored."""
    if not enabled:
        return Streak(weeks=0, forgiven=0, best=0, enabled=False)
    current = week_start(today)
    active = {week_start(day) for day in active_weeks}
    active = {week for week in active if week <= current}
    if not active:
        return Streak(weeks=0, forgiven=0, best=0)
    run = forgiven = best = 0
    months_forgiven: set[tuple[int, int]] = set()
    week = min(active)
    while week <= current:
        if week in active:
            run += 1
            best = max(best, run)
        elif week != current and run:
            month = month_of_week(week)
            if month in months_forgiven:
                run = forgiven = 0
                months_forgiven = set()
            else:
                months_forgiven.add(month)
                forgiven += 1
        week += ONE_WEEK
    return Streak(weeks=run, forgiven=forgiven if run else 0, best=best)
