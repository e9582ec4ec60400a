"""Property-based tests (hypothesis) of every validator: whatever comes in, each answers
with a value inside its rules or with its own refusal (never another exception, which
would be a 500), and accepts what it should.

Deterministic for CI: derandomized, no example database, at most EXAMPLES examples each.
"""
from __future__ import annotations

import math
import string
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from accounts.services import JOIN_CODE_ALPHABET
from api.parsing import (MAX_ID, WrongType, choice_arg, id_list, identifier, int_arg, number, number_arg, text,
                         timestamp, whole_number)
from challenges import rules
from challenges.geo import BadArea, check_circle
from maps.area import parse_bbox
from open311.services import UnknownService, catalogue, service_code, service_for
from scoring.rules import RuleError, dynamic_value, parse_multipliers, quest_award, split_award
from timeutil import as_utc, isoformat

EXAMPLES = 150
deterministic = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)
any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=300)  # incl. surrogates, NUL
number_strings = st.from_regex(r"\A[+-]?[0-9]{1,4}(\.[0-9]{0,6})?([eE][+-]?[0-9]{1,3})?\Z")


# --- JSON field types (api/parsing.py) -----------------------------------------------------

@deterministic
@given(json_values)
def test_text_accepts_only_storable_strings(value):
    try:
        result = text(value)
    except WrongType:
        assert not isinstance(value, str) or not rules.storable(value)
    else:
        assert result == value and rules.storable(result)


@deterministic
@given(any_text)
def test_text_refuses_exactly_what_the_database_cannot_hold(value):
    storable = "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    assert rules.storable(value) == storable
    if storable:
        assert text(value) == value
    else:
        with pytest.raises(WrongType):
            text(value)


@deterministic
@given(json_values)
def test_numbers_are_numbers_and_never_booleans(value):
    try:
        result = number(value)
    except WrongType:
        assert isinstance(value, bool) or not isinstance(value, (int, float))
    else:
        assert result is value and not isinstance(value, bool)


@deterministic
@given(json_values | st.integers(min_value=-2**70, max_value=2**70))
def test_identifiers_are_row_ids(value):
    try:
        result = identifier(value)
    except WrongType:
        assert isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID
    else:
        assert 1 <= result <= MAX_ID and whole_number(result) == result


@deterministic
@given(st.lists(st.integers(min_value=-5, max_value=MAX_ID + 5), max_size=120) | json_values)
def test_id_lists_hold_at_most_100_ids(value):
    try:
        result = id_list(value)
    except WrongType:
        assert (not isinstance(value, list) or len(value) > 100
                or any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_ID for v in value))
    else:
        assert result == value and len(result) <= 100


# --- dates and times (ISO 8601) --------------------------------------------------------------

zones = st.one_of(st.just(""), st.just("Z"), st.builds(
    lambda minutes: ("+" if minutes >= 0 else "-") + f"{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59)))


@deterministic
@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)), zones)
def test_iso_8601_date_times_parse_to_utc_or_are_refused(moment, zone):
    raw = moment.isoformat(timespec="seconds") + zone
    try:
        parsed = timestamp(raw)
    except WrongType:
        # only a time that falls outside years 1 to 9999 once moved to UTC
        offset = datetime.fromisoformat(raw).utcoffset() or timedelta()
        assert moment - offset < datetime(1, 1, 1) + timedelta(days=1) or \
            moment - offset > datetime(9999, 12, 31) - timedelta(days=1)
    else:
        assert parsed.tzinfo == timezone.utc
        assert parsed == as_utc(datetime.fromisoformat(raw))
        assert timestamp(isoformat(parsed)) == parsed.replace(microsecond=0)


@deterministic
@given(any_text | json_values)
def test_anything_else_is_not_a_date_time(value):
    try:
        parsed = timestamp(value)
    except WrongType:
        return
    assert isinstance(value, str) and parsed.tzinfo == timezone.utc


# --- query-string parameters (page, page_size, limits, choices) ------------------------------

@deterministic
@given(st.integers(min_value=0, max_value=10), st.integers(min_value=0, max_value=2**31),
       st.none() | any_text | st.integers(min_value=-10, max_value=2**80).map(str))
def test_whole_number_parameters_stay_in_their_range(low, span, raw):
    read = int_arg(default=low, minimum=low, maximum=low + span)
    try:
        value = read(raw)
    except WrongType:
        assert raw and not (raw.isascii() and raw.isdigit() and low <= int(raw) <= low + span)
    else:
        assert low <= value <= low + span


@deterministic
@given(st.none() | any_text | number_strings | st.floats().map(repr))
def test_decimal_parameters_are_finite_numbers(raw):
    read = number_arg(default=None)
    try:
        value = read(raw)
    except WrongType:
        return
    assert math.isfinite(value) and float(raw) == value


@deterministic
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=6, unique=True), st.none() | any_text)
def test_choices_are_one_of_the_options(options, raw):
    read = choice_arg(options)
    try:
        value = read(raw)
    except WrongType:
        assert raw not in options and raw
    else:
        assert value is None and not raw or value in options


# --- coordinates, points on the map, bounding boxes ------------------------------------------

coordinates = st.floats(allow_nan=True, allow_infinity=True) | st.integers(min_value=-1000, max_value=1000) | \
    st.none() | st.booleans() | st.text(max_size=5)


@deterministic
@given(coordinates, coordinates)
def test_coordinates_on_earth_and_nothing_else(lat, lon):
    fields = rules.coordinate_problems(lat, lon)
    for name, value, limit in (("lat", lat, 90), ("lon", lon, 180)):
        good = (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
                and -limit <= value <= limit)
        assert (name not in fields) == good, (name, value, fields)


@deterministic
@given(coordinates, coordinates, coordinates)
def test_search_circles_are_on_earth_with_a_sane_radius(lat, lon, radius):
    try:
        check_circle(lat, lon, radius)
    except BadArea as bad:
        assert bad.field in ("lat", "lon", "radius_m")
    else:
        assert -90 <= lat <= 90 and -180 <= lon <= 180 and radius >= 1


@deterministic
@given(st.lists(number_strings | any_text, min_size=0, max_size=6).map(",".join) | any_text)
def test_bounding_boxes_parse_or_name_the_bbox_field(raw):
    try:
        box = parse_bbox(raw)
    except BadArea as bad:
        assert bad.field == "bbox"
    else:
        assert -180 <= box.min_lon <= 180 and -180 <= box.max_lon <= 180
        assert -90 <= box.min_lat <= box.max_lat <= 90


@deterministic
@given(st.floats(-180, 180), st.floats(-90, 90), st.floats(-180, 180), st.floats(-90, 90))
def test_every_box_on_earth_is_accepted(lon1, lat1, lon2, lat2):
    low, high = sorted((lat1, lat2))
    box = parse_bbox(f"{lon1!r},{low!r},{lon2!r},{high!r}")
    assert (box.min_lon, box.min_lat, box.max_lon, box.max_lat) == (lon1, low, lon2, high)


# --- text lengths (problems, quests) ---------------------------------------------------------

@deterministic
@given(any_text, st.text(max_size=rules.DESCRIPTION_MAX + 10) | any_text, st.none() | any_text)
def test_problem_text_is_required_bounded_and_storable(title, description, address):
    fields = rules.problem_problems(title=title, description=description, category="pothole", lat=1, lon=1,
                                    address=address, categories=("pothole",))
    title_ok = 3 <= len(title.strip()) <= rules.TITLE_MAX and rules.storable(title.strip())
    description_ok = 1 <= len(description.strip()) <= rules.DESCRIPTION_MAX and rules.storable(description.strip())
    address_ok = not (address or "").strip() or (len(address.strip()) <= rules.ADDRESS_MAX
                                                 and rules.storable(address.strip()))
    assert ("title" not in fields) == title_ok
    assert ("description" not in fields) == description_ok
    assert ("address" not in fields) == address_ok


# --- points ----------------------------------------------------------------------------------

@deterministic
@given(json_values | st.integers(min_value=-10, max_value=2000))
def test_quest_points_are_whole_numbers_in_range(points):
    fields = rules.quest_problems(title="Litter pick", brief="Why", points=points, difficulty="easy", mode="solo",
                                  evidence_wanted="A photo", starts_at=None, ends_at=None,
                                  now=datetime.now(timezone.utc))
    good = isinstance(points, int) and not isinstance(points, bool) and rules.POINTS_MIN <= points <= rules.POINTS_MAX
    assert ("points" not in fields) == good


@deterministic
@given(st.integers(min_value=-5, max_value=20_000), st.sampled_from(["easy", "medium", "hard", "epic"]))
def test_quest_awards_are_whole_and_bounded(points, difficulty):
    try:
        award = quest_award(points, difficulty)
    except RuleError:
        assert points < 0 or difficulty == "epic" or points * 2 > 1000
    else:
        assert isinstance(award, int) and 0 <= award


@deterministic
@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=0, max_value=1000),
       st.integers(min_value=1, max_value=1000), st.integers(min_value=0, max_value=5000))
def test_dynamic_values_fall_from_initial_to_minimum(initial, minimum, decay, solves):
    assume(minimum <= initial)
    value = dynamic_value(initial, minimum, decay, solves)
    assert minimum <= value <= initial
    assert dynamic_value(initial, minimum, decay, solves + 1) <= value


@deterministic
@given(st.integers(min_value=0, max_value=10_000), st.lists(st.integers(1, 10**6), min_size=1, max_size=12, unique=True))
def test_equal_splits_add_up_exactly(total, members):
    shares = split_award(total, members, "equal")
    assert sum(shares.values()) == total and max(shares.values()) - min(shares.values()) <= 1


@deterministic
@given(any_text)
def test_multiplier_settings_parse_or_are_refused(raw):
    try:
        parsed = parse_multipliers(raw)
    except RuleError:
        return
    assert parsed and all(0 < value <= 10 for value in parsed.values())


# --- codes: team join codes, categories as Open311 service codes -----------------------------

@settings(max_examples=25, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # cleans up itself
@given(code=st.text(alphabet=JOIN_CODE_ALPHABET, min_size=8, max_size=8), space=st.sampled_from(["", " ", "\t"]),
       lower=st.booleans())
def test_join_codes_are_read_in_any_case_with_spaces_around(code, space, lower, app, ctx):
    from accounts.models import Team
    from accounts.services import join_team
    from extensions import db
    from tests.factories import make_team, make_user

    captain = make_user()
    team = make_team(captain)
    team.join_code = code
    db.session.commit()
    typed = space + (code.lower() if lower else code) + space
    assert join_team(db.session, actor=make_user(), code=typed).id == team.id
    db.session.rollback()
    db.session.delete(db.session.get(Team, team.id))
    db.session.commit()


@deterministic
@given(st.lists(st.text(alphabet=string.ascii_letters + " -&'é", min_size=1, max_size=20), min_size=1, max_size=8))
def test_service_codes_are_url_safe_and_find_their_category(categories):
    services = catalogue(categories)
    for service in services:
        assert service.code and all(c in string.ascii_lowercase + string.digits + "-" for c in service.code)
        assert service_for(categories, service.code) == service
    assert {service_code(c) for c in categories} == {s.code for s in services}


@deterministic
@given(any_text)
def test_unknown_service_codes_are_refused(code):
    assume(code not in {"pothole", "litter"})
    with pytest.raises(UnknownService):
        service_for(("pothole", "litter"), code)
