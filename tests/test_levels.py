"""The level curve (pure: no app)."""
from __future__ import annotations

import dataclasses

import pytest

from scoring.levels import MAX_LEVEL, Level, level_for, threshold


def test_documented_thresholds():
    assert [threshold(n) for n in range(1, 11)] == [0, 100, 400, 900, 1600, 2500, 3600, 4900, 6400, 8100]
    assert threshold(MAX_LEVEL) == 100 * (MAX_LEVEL - 1) ** 2


def test_a_few_fixes_reach_level_two():
    assert level_for(0).number == 1
    assert level_for(99).number == 1
    assert level_for(2 * 50).number == 2  # two typical quests


def test_level_ten_takes_months_of_steady_work():
    weekly = 3 * 60  # three quests a week at about 60 points with their badges
    weeks = next(week for week in range(1, 1000) if level_for(week * weekly).number >= 10)
    assert 26 <= weeks <= 60  # between six months and about a year
    assert level_for(8100).number == 10


def test_every_threshold_is_where_its_level_starts():
    for n in range(2, MAX_LEVEL + 1):
        assert level_for(threshold(n)).number == n
        assert level_for(threshold(n) - 1).number == n - 1


def test_levels_and_floors_never_go_down_as_points_grow():
    previous = level_for(0)
    for points in range(0, threshold(MAX_LEVEL) + 5000, 37):
        level = level_for(points)
        assert level.number >= previous.number
        assert level.floor >= previous.floor
        assert 0.0 <= level.progress <= 1.0
        assert level.floor <= points
        if level.next_floor is not None:
            assert points < level.next_floor
            assert level.points_to_next == level.next_floor - points
        previous = level


def test_progress_within_a_level():
    level = level_for(250)
    assert level == Level(number=2, floor=100, next_floor=400, progress=0.5, points_to_next=150)


def test_the_cap_has_no_next_level():
    top = level_for(threshold(MAX_LEVEL) + 1_000_000)
    assert top.number == MAX_LEVEL
    assert top.next_floor is None and top.points_to_next is None
    assert top.progress == 1.0
    assert top.at_cap


def test_points_below_zero_are_level_one():
    assert level_for(-40) == level_for(0)


def test_only_whole_points_have_a_level():
    with pytest.raises(TypeError):
        level_for(10.5)
    with pytest.raises(TypeError):
        level_for(True)
    with pytest.raises(ValueError):
        threshold(0)
    with pytest.raises(ValueError):
        threshold(MAX_LEVEL + 1)


def test_levels_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        level_for(10).number = 5
