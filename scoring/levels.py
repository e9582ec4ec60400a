"""Levels: a participant's standing, derived from lifetime points by one documented curve.

    threshold(n) = 100 * (n - 1)^2 points        (level 1 at 0, the cap at MAX_LEVEL)

    level    1    2    3    4     5     6     7     8     9    10  ...     20      50
    points   0  100  400  900 1,600 2,500 3,600 4,900 6,400 8,100  ... 36,100 240,100

Why this curve. Quests are worth about 20 to 150 points (50 is typical; a hard one with
its multiplier reaches 300), a completed review earns a point, a badge 10:

- Level 2 (100 points) takes a few fixes: two typical quests, or five small ones. Someone
  who has just started sees the bar move and reaches a level in their first week or two.
- Each step is 200 points longer than the one before (100, 300, 500 ...: the gap grows
  linearly, so the curve is quadratic): the 9 -> 10 step is 1,700 points, about 34
  typical quests.
- Level 10 (8,100 points) is months of steady work: two or three quests a week at about
  60 points with their badges (~180 points a week) get there in about ten months; a
  very keen volunteer doing a quest a day (~450 a week) in about four.
- A cap at level 50 (240,100 points, years of work at any pace) keeps the number
  meaningful; past it the bar stays full.

Quadratic rather than exponential: an exponential curve makes the top levels unreachable
for real volunteers and the bottom ones meaningless; a linear one makes level 10 as easy
as ten times level 2. The level is always derived from the ledger, never stored: if
lifetime points fall (a reversed claim), the level follows them.

Pure and integer-exact: no app, no database. Other modules unlock things by level
(`level_for(points).number >= n`).
"""
from __future__ import annotations

from dataclasses import dataclass
from math import isqrt

POINTS_PER_STEP = 100
MAX_LEVEL = 50


def threshold(level: int) -> int:
    """The lifetime points at which `level` starts: 100 * (level - 1)^2."""
    if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= MAX_LEVEL:
        raise ValueError(f"Levels run from 1 to {MAX_LEVEL}, not {level!r}.")
    return POINTS_PER_STEP * (level - 1) ** 2


@dataclass(frozen=True)
class Level:
    """Where some lifetime points stand on the curve.

    number: the level (1 .. MAX_LEVEL). floor: the points at which it started.
    next_floor: the points at which the next level starts (None at the cap).
    progress: 0.0 .. 1.0 of the way from floor to next_floor (1.0 at the cap).
    points_to_next: points still needed for the next level (None at the cap).
    """

    number: int
    floor: int
    next_floor: int | None
    progress: float
    points_to_next: int | None

    @property
    def at_cap(self) -> bool:
        return self.next_floor is None


def level_for(points: int) -> Level:
    """The level for `points` lifetime points. Points below zero (possible after a
    reversal) are level 1 with no progress."""
    if isinstance(points, bool) or not isinstance(points, int):
        raise TypeError(f"Points are a whole number, not {points!r}.")
    points = max(points, 0)
    # threshold(n) <= points  <=>  (n - 1)^2 <= points // 100, since (n - 1)^2 is a whole number.
    number = min(isqrt(points // POINTS_PER_STEP) + 1, MAX_LEVEL)
    floor = threshold(number)
    if number == MAX_LEVEL:
        return Level(number=number, floor=floor, next_floor=None, progress=1.0, points_to_next=None)
    next_floor = threshold(number + 1)
    return Level(number=number, floor=floor, next_floor=next_floor,
                 progress=(points - floor) / (next_floor - floor), points_to_next=next_floor - points)
