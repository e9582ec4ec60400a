"""Great-circle distances and the grid cells that make nearby lookups fast.

The globe is cut into cells of CELL_DEG degrees (about 111 m north-south). A problem stores
the integer id of its cell, lat_index * LON_CELLS + lon_index, with an index on it. A
nearby search turns its circle into a few contiguous runs of cell ids (one run per row of
cells, two where the circle crosses the antimeridian), reads the candidates with index
range scans and keeps those within the radius by haversine distance. Near the poles a row
simply becomes the whole row.
"""
from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
CELL_DEG = 0.001
LAT_CELLS = round(180 / CELL_DEG)  # 180,000 rows
LON_CELLS = round(360 / CELL_DEG)  # 360,000 cells per row
MAX_RADIUS_M = 5_000


class BadArea(ValueError):
    """Coordinates or a radius that cannot describe a place on Earth."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _lat_index(lat: float) -> int:
    return min(LAT_CELLS - 1, max(0, math.floor((lat + 90) / CELL_DEG)))


def _lon_index(lon: float) -> int:
    return math.floor(((lon + 180) % 360) / CELL_DEG) % LON_CELLS


def cell_of(lat: float, lon: float) -> int:
    return _lat_index(lat) * LON_CELLS + _lon_index(lon)


def check_circle(lat, lon, radius_m) -> None:
    for field, value, limit in (("lat", lat, 90), ("lon", lon, 180)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise BadArea(field, "Enter a number.")
        if not -limit <= value <= limit:
            raise BadArea(field, f"Must be between -{limit} and {limit}.")
    if isinstance(radius_m, bool) or not isinstance(radius_m, (int, float)) or not math.isfinite(radius_m):
        raise BadArea("radius_m", "Enter a number of metres.")
    if not 1 <= radius_m <= MAX_RADIUS_M:
        raise BadArea("radius_m", f"Must be between 1 and {MAX_RADIUS_M} metres.")


def cell_ranges(lat: float, lon: float, radius_m: float) -> list[tuple[int, int]]:
    """Inclusive (first, last) runs of cell ids that together cover the circle."""
    check_circle(lat, lon, radius_m)
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    lat_lo, lat_hi = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    # The widest the circle gets in longitude is at its row nearest a pole.
    widest = max(abs(lat_lo), abs(lat_hi))
    cos_widest = math.cos(math.radians(widest))
    if cos_widest <= 0 or lat_hi >= 90 or lat_lo <= -90:
        dlon = 180.0
    else:
        ratio = math.sin(radius_m / EARTH_RADIUS_M) / cos_widest
        dlon = 180.0 if ratio >= 1 else math.degrees(math.asin(ratio))
    runs: list[tuple[int, int]] = []
    for row in range(_lat_index(lat_lo), _lat_index(lat_hi) + 1):
        base = row * LON_CELLS
        if dlon >= 180 or 2 * dlon / CELL_DEG + 2 >= LON_CELLS:
            runs.append((base, base + LON_CELLS - 1))
            continue
        first, last = _lon_index(lon - dlon), _lon_index(lon + dlon)
        if first <= last:
            runs.append((base + first, base + last))
        else:  # the circle crosses the antimeridian: two runs
            runs.append((base + first, base + LON_CELLS - 1))
            runs.append((base, base + last))
    return runs
