"""Pure rules, tested without an app."""
from datetime import datetime, timedelta, timezone

import pytest

from accounts import rules as account_rules
from challenges import rules
from scoring.leaderboards import MAX_EXACT_POINTS, decode_points, encode_score

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("lat,lon,bad", [
    (91, 0, "lat"), (-90.0001, 0, "lat"), (0, 180.5, "lon"), (0, -181, "lon"),
    (float("nan"), 0, "lat"), (0, float("inf"), "lon"), (None, 0, "lat"), ("51", 0, "lat"),
])
def test_coordinates_outside_the_globe_are_refused(lat, lon, bad):
    assert bad in rules.coordinate_problems(lat, lon)


@pytest.mark.parametrize("lat,lon", [(90, 180), (-90, -180), (0, 0), (51.4545, -2.5879)])
def test_coordinates_on_the_globe_pass(lat, lon):
    assert rules.coordinate_problems(lat, lon) == {}


def quest_fields(**overrides):
    fields = dict(title="Clear the path", brief="Why it matters", points=50, difficulty="easy", mode="solo",
                  evidence_wanted="A note", starts_at=None, ends_at=None, now=NOW)
    fields.update(overrides)
    return rules.quest_problems(**fields)


@pytest.mark.parametrize("points", [0, 1001, -5, 2.5, "50", True])
def test_points_outside_1_to_1000_or_not_whole_are_refused(points):
    assert "points" in quest_fields(points=points)


@pytest.mark.parametrize("points", [1, 1000])
def test_points_at_the_limits_are_fine(points):
    assert quest_fields(points=points) == {}


def test_quest_end_must_be_future_and_after_start():
    assert "ends_at" in quest_fields(ends_at=NOW - timedelta(minutes=1))
    assert "ends_at" in quest_fields(starts_at=NOW + timedelta(days=2), ends_at=NOW + timedelta(days=1))
    assert quest_fields(starts_at=NOW + timedelta(days=1), ends_at=NOW + timedelta(days=2)) == {}


def test_over_long_title_is_named():
    assert "title" in quest_fields(title="x" * (rules.TITLE_MAX + 1))


@pytest.mark.parametrize("password,ok", [
    ("short", False), ("password123", False), ("aaaaaaaaaaaa", False), ("x" * 129, False),
    ("tram lines at dusk", True),
])
def test_password_strength(password, ok):
    assert (account_rules.password_problems(password, min_length=10) == []) is ok


def test_display_names_may_not_carry_an_email():
    assert account_rules.display_name_problems("me@example.org")
    assert account_rules.display_name_problems("A")
    assert account_rules.display_name_problems("Swift Otter") == []


def test_emails_are_normalised_and_checked():
    assert account_rules.normalise_email("  Ada@Example.ORG ") == "ada@example.org"
    assert account_rules.email_problems("not-an-email")
    assert account_rules.email_problems("ada@example.org") == []


def test_score_encoding_orders_by_points_then_earliest():
    assert encode_score(10, 5) > encode_score(9, 1)
    assert encode_score(10, 5) > encode_score(10, 6)  # same points: the earlier entry ranks higher
    for points in (0, 1, 999, -40, MAX_EXACT_POINTS - 1):
        assert decode_points(float(encode_score(points, 123456))) == points
