"""Distances, grid cells and the circle check (pure: no app, no database)."""
from __future__ import annotations

import math
import random

import pytest

from challenges import geo
from challenges.nearby import bounding_box

R = geo.EARTH_RADIUS_M


def destination(lat: float, lon: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """The point `distance_m` along the great circle from (lat, lon) at `bearing_deg`."""
    p1, l1, b, d = math.radians(lat), math.radians(lon), math.radians(bearing_deg), distance_m / R
    p2 = math.asin(min(1.0, max(-1.0, math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))))
    l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    return math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180


def points_within(rng: random.Random, lat: float, lon: float, radius_m: float, n: int):
    """`n` random points inside the circle, a few of them on its edge."""
    for i in range(n):
        distance = radius_m * (1 - 1e-9) if i % 10 == 0 else radius_m * math.sqrt(rng.random())
        yield destination(lat, lon, rng.uniform(0, 360), distance)


# --- haversine -----------------------------------------------------------------------------

def test_a_degree_of_latitude_is_about_111_km():
    assert geo.haversine_m(51.0, -2.0, 52.0, -2.0) == pytest.approx(R * math.pi / 180, rel=1e-12)


def test_distance_is_zero_to_itself_and_symmetric():
    assert geo.haversine_m(51.4545, -2.5879, 51.4545, -2.5879) == 0
    there = geo.haversine_m(51.4545, -2.5879, 51.4600, -2.6000)
    assert there == pytest.approx(geo.haversine_m(51.4600, -2.6000, 51.4545, -2.5879), rel=1e-12)


def test_distance_across_the_antimeridian_is_short():
    # 0.0002 degrees of longitude on the equator: about 22 m, not the other way round the world.
    assert geo.haversine_m(0.0, 179.9999, 0.0, -179.9999) == pytest.approx(22.24, abs=0.01)


def test_antipodes_are_half_the_circumference_apart():
    assert geo.haversine_m(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * R)
    assert geo.haversine_m(90.0, 0.0, -90.0, 0.0) == pytest.approx(math.pi * R)


def test_points_at_the_pole_are_the_same_place_whatever_their_longitude():
    assert geo.haversine_m(90.0, 0.0, 90.0, 123.0) == pytest.approx(0, abs=1e-6)


# --- cells ---------------------------------------------------------------------------------

def test_longitude_180_and_minus_180_share_a_cell():
    assert geo.cell_of(10.0, 180.0) == geo.cell_of(10.0, -180.0)


def test_the_poles_have_valid_cells():
    assert 0 <= geo.cell_of(-90.0, -180.0) < geo.cell_of(90.0, 179.9999) < geo.LAT_CELLS * geo.LON_CELLS


def test_a_cell_is_a_thousandth_of_a_degree():
    assert geo.cell_of(51.4541, -2.5879) == geo.cell_of(51.4549, -2.5871)
    assert geo.cell_of(51.4551, -2.5879) == geo.cell_of(51.4549, -2.5879) + geo.LON_CELLS
    assert geo.cell_of(51.4549, -2.5869) == geo.cell_of(51.4549, -2.5871) + 1


def test_a_50_m_circle_in_a_city_is_a_few_short_runs():
    runs = geo.cell_ranges(51.4545, -2.5879, 50)
    assert 1 <= len(runs) <= 3
    assert all(last - first <= 3 for first, last in runs)


def test_a_circle_across_the_antimeridian_is_two_runs_per_row():
    runs = geo.cell_ranges(0.0, 179.9999, 50)
    row_starts = {first for first, _ in runs if first % geo.LON_CELLS == 0}
    row_ends = {last for _, last in runs if last % geo.LON_CELLS == geo.LON_CELLS - 1}
    assert len(runs) == 2 * len(row_starts) == 2 * len(row_ends)


@pytest.mark.parametrize("lat", [90.0, 89.9999, -90.0, -89.9999])
def test_a_circle_around_a_pole_takes_whole_rows(lat):
    runs = geo.cell_ranges(lat, 45.0, 50)
    assert runs and all(first % geo.LON_CELLS == 0 and last - first == geo.LON_CELLS - 1
                        for first, last in runs)


CENTRES = [(51.4545, -2.5879), (0.0, 179.9999), (-16.8, -179.9995), (89.9999, 10.0), (90.0, 0.0),
           (-89.9995, -120.0), (64.1, -21.9), (-33.87, 151.21), (0.0, 0.0)]


@pytest.mark.parametrize("lat,lon", CENTRES)
@pytest.mark.parametrize("radius_m", [1, 50, 400, geo.MAX_RADIUS_M])
def test_runs_cover_every_point_of_the_circle_without_overlapping(lat, lon, radius_m):
    rng = random.Random(f"{lat},{lon},{radius_m}")
    runs = geo.cell_ranges(lat, lon, radius_m)
    cells = sorted(runs)
    assert all(a[1] < b[0] for a, b in zip(cells, cells[1:])), "runs overlap"
    for plat, plon in points_within(rng, lat, lon, radius_m, 300):
        cell = geo.cell_of(plat, plon)
        assert any(first <= cell <= last for first, last in runs), (plat, plon)


@pytest.mark.parametrize("lat,lon", CENTRES)
@pytest.mark.parametrize("radius_m", [1, 50, 400, geo.MAX_RADIUS_M])
def test_the_bounding_box_holds_every_point_of_the_circle(lat, lon, radius_m):
    rng = random.Random(f"box {lat},{lon},{radius_m}")
    south, north, lon_intervals = bounding_box(lat, lon, radius_m)
    for plat, plon in points_within(rng, lat, lon, radius_m, 300):
        assert south <= plat <= north
        assert lon_intervals is None or any(west <= plon <= east for west, east in lon_intervals)


def test_the_bounding_box_is_tight_in_a_city():
    south, north, [(west, east)] = bounding_box(51.4545, -2.5879, 50)
    assert geo.haversine_m(south, -2.5879, north, -2.5879) == pytest.approx(100, abs=0.01)
    assert geo.haversine_m(51.4545, west, 51.4545, east) == pytest.approx(100, abs=0.05)


def test_the_bounding_box_splits_at_the_antimeridian_and_opens_at_a_pole():
    assert len(bounding_box(0.0, 179.9999, 50)[2]) == 2
    assert len(bounding_box(0.0, -179.9999, 50)[2]) == 2
    assert bounding_box(89.9999, 0.0, 50)[2] is None
    assert bounding_box(90.0, 0.0, 50) == (pytest.approx(90 - math.degrees(50 / R), abs=1e-7), 90.0, None)


# --- checking a circle ---------------------------------------------------------------------

@pytest.mark.parametrize("lat,lon,radius_m,field", [
    (91, 0, 50, "lat"), (-90.5, 0, 50, "lat"), (math.nan, 0, 50, "lat"), ("51.4", 0, 50, "lat"),
    (True, 0, 50, "lat"), (None, 0, 50, "lat"),
    (0, 180.01, 50, "lon"), (0, -181, 50, "lon"), (0, math.inf, 50, "lon"),
    (0, 0, 0, "radius_m"), (0, 0, 0.5, "radius_m"), (0, 0, 10_000, "radius_m"), (0, 0, -50, "radius_m"),
    (0, 0, math.nan, "radius_m"), (0, 0, "50", "radius_m"), (0, 0, None, "radius_m"),
])
def test_an_impossible_circle_is_refused_naming_the_field(lat, lon, radius_m, field):
    with pytest.raises(geo.BadArea) as raised:
        geo.check_circle(lat, lon, radius_m)
    assert raised.value.field == field and raised.value.message


@pytest.mark.parametrize("lat,lon,radius_m", [(90, 180, 1), (-90, -180, geo.MAX_RADIUS_M), (0, 0, 50.5)])
def test_circles_at_the_limits_are_fine(lat, lon, radius_m):
    geo.check_circle(lat, lon, radius_m)
