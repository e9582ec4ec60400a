"""Leaderboard windows: the stretch of time whose ledger rows count (pure; no app, no SQL).

A window is named in requests as "all", "week", "month" or "season:<id>". Resolved
against a moment (`now`) and the site's zone it becomes a `Window`: a half-open range of
UTC datetimes [starts_at, ends_at) plus a stable `key` for storage ("week:2026-W48",
"month:2026-11", "season:3", "all").

* week: the ISO week holding `now` in the zone, Monday 00:00 to the next Monday 00:00;
  across a daylight-saving change it is 167 or 169 hours long.
* month: the calendar month holding `now` in the zone.
* season: a row of the seasons table; `starts_on` and `ends_on` are dates in the zone,
  both inclusive, so the range ends at 00:00 on the day after `ends_on`.
* all: no bounds.

Local midnight that falls in a daylight-saving gap (not in Europe/London, where the clocks
change at 01:00 UTC) takes the offset in force before the change, as zoneinfo's fold=0 does.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from errors import ValidationFailed

WINDOW_NAMES = ("week", "month", "all")
# How long a finished window's projection is kept (Redis keys expire this long after the end).
KEEP_AFTER_END = timedelta(days=35)
_SEASON_NAME = re.compile(r"season:([1-9][0-9]{0,9})")
MAX_SEASON_ID = 2**31 - 1  # seasons.id is an INTEGER column


class UnknownWindow(ValidationFailed):
    """A window name that is not week, month, all or season:<id> of an existing season."""

    def __init__(self, name: str, *, field: str = "window"):
        super().__init__({field: [f"No leaderboard window {name!r}: use week, month, all or season:<id> "
                                  "(the id of an existing season)."]})
        self.name = name


@dataclass(frozen=True)
class SeasonDates:
    id: int
    name: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class Window:
    kind: str                   # "all" | "week" | "month" | "season"
    key: str                    # storage key: "all", "week:2026-W48", "month:2026-11", "season:3"
    label: str                  # for people: "All time", "Week of 23 Nov 2026", "November 2026", a season's name
    starts_at: datetime | None  # UTC, inclusive; None: since the beginning
    ends_at: datetime | None    # UTC, exclusive; None: no end

    @property
    def name(self) -> str:
        """How a request names it: "all", "week", "month" or "season:<id>"."""
        return self.key if self.kind in ("all", "season") else self.kind

    def contains(self, moment: datetime) -> bool:
        return (self.starts_at is None or moment >= self.starts_at) and (self.ends_at is None or moment < self.ends_at)

    def expires_at(self) -> datetime | None:
        """When a stored copy of this window may be dropped (None: keep for ever)."""
        return None if self.ends_at is None else self.ends_at + KEEP_AFTER_END


@lru_cache(maxsize=16)
def zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _zone(zone: ZoneInfo | str) -> ZoneInfo:
    return zone_named(zone) if isinstance(zone, str) else zone


def local_midnight(day: date, zone: ZoneInfo | str) -> datetime:
    """00:00 on `day` in `zone`, as a UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=_zone(zone)).astimezone(timezone.utc)


def local_date(moment: datetime, zone: ZoneInfo | str) -> date:
    return moment.astimezone(_zone(zone)).date()


ALL_TIME = Window("all", "all", "All time", None, None)


def week_containing(now: datetime, zone: ZoneInfo | str) -> Window:
    today = local_date(now, zone)
    monday = today - timedelta(days=today.weekday())
    iso_year, iso_week, _ = monday.isocalendar()
    return Window("week", f"week:{iso_year}-W{iso_week:02d}", f"Week of {monday.day} {monday:%b %Y}",
                  local_midnight(monday, zone), local_midnight(monday + timedelta(days=7), zone))


def month_containing(now: datetime, zone: ZoneInfo | str) -> Window:
    first = local_date(now, zone).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Window("month", f"month:{first:%Y-%m}", f"{first:%B %Y}",
                  local_midnight(first, zone), local_midnight(following, zone))


def season_window(season: SeasonDates, zone: ZoneInfo | str) -> Window:
    return Window("season", f"season:{season.id}", season.name,
                  local_midnight(season.starts_on, zone), local_midnight(season.ends_on + timedelta(days=1), zone))


def parse(name: str | None) -> tuple[str, int | None]:
    """("week", None), ("season", 3) ...: the syntax only, no lookups. UnknownWindow otherwise."""
    if name in WINDOW_NAMES:
        return name, None
    match = _SEASON_NAME.fullmatch(name or "")
    if match is None or int(match.group(1)) > MAX_SEASON_ID:
        raise UnknownWindow(str(name))
    return "season", int(match.group(1))


def storage_key(name: str, *, now: datetime, zone: ZoneInfo | str) -> str:
    """The key of a named window without looking the season up (cheap: for reads)."""
    kind, season_id = parse(name)
    if kind == "week":
        return week_containing(now, zone).key
    if kind == "month":
        return month_containing(now, zone).key
    return "all" if kind == "all" else f"season:{season_id}"


def resolve(name: str, *, now: datetime, zone: ZoneInfo | str,
            season: Callable[[int], SeasonDates | None]) -> Window:
    """The Window a request names; `season(id)` looks a season up (None: no such season)."""
    kind, season_id = parse(name)
    if kind == "all":
        return ALL_TIME
    if kind == "week":
        return week_containing(now, zone)
    if kind == "month":
        return month_containing(now, zone)
    found = season(season_id)
    if found is None:
        raise UnknownWindow(name)
    return season_window(found, zone)


def active_seasons(seasons: Iterable[SeasonDates], now: datetime, zone: ZoneInfo | str) -> list[SeasonDates]:
    today = local_date(now, zone)
    return [s for s in seasons if s.starts_on <= today <= s.ends_on]


def live_windows(*, now: datetime, zone: ZoneInfo | str, seasons: Iterable[SeasonDates],
                 grace: timedelta = timedelta(0)) -> list[Window]:
    """The windows a new ledger row can fall in: all-time, this week, this month and the
    seasons running today. With `grace`, also those that ended within `grace` before `now`,
    so an award made just before midnight on Sunday still reaches last week's board."""
    found: dict[str, Window] = {ALL_TIME.key: ALL_TIME}
    seasons = list(seasons)
    for moment in (now, now - grace) if grace else (now,):
        for window in (week_containing(moment, zone), month_containing(moment, zone),
                       *(season_window(s, zone) for s in active_seasons(seasons, moment, zone))):
            found.setdefault(window.key, window)
    return list(found.values())


def default_windows(*, now: datetime, zone: ZoneInfo | str, seasons: Iterable[SeasonDates]) -> list[Window]:
    """What the leaderboards page opens on: this week, and the current season (the one that
    started last, if several run at once) or else all-time."""
    running = sorted(active_seasons(seasons, now, zone), key=lambda s: (s.starts_on, s.id))
    second = season_window(running[-1], zone) if running else ALL_TIME
    return [week_containing(now, zone), second]
