"""Places on the map, as a query string gives them: a bounding box or a circle.

Pure parsing and geometry, no database: the GeoJSON endpoint, the Atom area feed and the
map page read the same `bbox=minlon,minlat,maxlon,maxlat` (the order of RFC 7946 and of
OpenStreetMap) and `lat=&lon=&radius_m=`, and give the same messages. A box whose west edge
is east of its east edge crosses the antimeridian (RFC 7946, section 5.2).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from challenges import geo
from challenges.geo import BadArea

# A plain decimal number: no "nan", "inf", "0x1p3" or "1_000", which float() would accept.
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
BBOX_EXAMPLE = "bbox=-2.60,51.44,-2.57,51.47"


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @property
    def crosses_antimeridian(self) -> bool:
        return self.min_lon > self.max_lon

    def contains(self, lat: float, lon: float) -> bool:
        if not self.min_lat <= lat <= self.max_lat:
            return False
        if self.crosses_antimeridian:
            return lon >= self.min_lon or lon <= self.max_lon
        return self.min_lon <= lon <= self.max_lon

    def as_param(self) -> str:
        return ",".join(_short(v) for v in (self.min_lon, self.min_lat, self.max_lon, self.max_lat))

    def describe(self) -> str:
        return (f"between latitudes {_short(self.min_lat)} and {_short(self.max_lat)} and "
                f"longitudes {_short(self.min_lon)} and {_short(self.max_lon)}")


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    radius_m: float

    def contains(self, lat: float, lon: float) -> bool:
        return geo.haversine_m(self.lat, self.lon, lat, lon) <= self.radius_m

    def as_params(self) -> dict[str, str]:
        return {"lat": _short(self.lat), "lon": _short(self.lon), "radius_m": _short(self.radius_m)}

    def describe(self) -> str:
        return f"within {_short(self.radius_m)} m of {_short(self.lat)}, {_short(self.lon)}"


Area = BBox | Circle


def _short(value: float) -> str:
    """A number as people write it: 51.4545, not 51.45450000000001; 500, not 500.0."""
    return f"{value:.7f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def parse_number(field: str, raw: str | None, *, what: str = "a number") -> float:
    raw = (raw or "").strip()
    if not _NUMBER.match(raw):
        raise BadArea(field, f"Enter {what}.")
    return float(raw)


def parse_bbox(raw: str) -> BBox:
    """`minlon,minlat,maxlon,maxlat` in degrees; raises BadArea("bbox", why)."""
    parts = raw.split(",")
    if len(parts) != 4 or not all(_NUMBER.match(part.strip()) for part in parts):
        raise BadArea("bbox", f"Give four numbers, minlon,minlat,maxlon,maxlat, like {BBOX_EXAMPLE}.")
    min_lon, min_lat, max_lon, max_lat = (float(part) for part in parts)
    if not all(-180 <= lon <= 180 for lon in (min_lon, max_lon)):
        raise BadArea("bbox", "Longitudes must be between -180 and 180.")
    if not all(-90 <= lat <= 90 for lat in (min_lat, max_lat)):
        raise BadArea("bbox", "Latitudes must be between -90 and 90.")
    if min_lat > max_lat:
        raise BadArea("bbox", "The minimum latitude (second number) must not be above the maximum (fourth).")
    return BBox(min_lon, min_lat, max_lon, max_lat)


def parse_circle(lat: str | None, lon: str | None, radius_m: str | None) -> Circle:
    """A centre and a radius in metres (1 to geo.MAX_RADIUS_M); raises BadArea naming the field."""
    circle = Circle(parse_number("lat", lat, what="a latitude in degrees, like 51.4545"),
                    parse_number("lon", lon, what="a longitude in degrees, like -2.5879"),
                    parse_number("radius_m", radius_m, what="a radius in metres, like 500"))
    geo.check_circle(circle.lat, circle.lon, circle.radius_m)
    return circle


def parse_area(args) -> Area:
    """Either `bbox` or `lat`, `lon` and `radius_m` from a query string (a MultiDict)."""
    has_bbox = bool(args.get("bbox"))
    has_circle = any(args.get(name) for name in ("lat", "lon", "radius_m"))
    if has_bbox and has_circle:
        raise BadArea("bbox", "Give either bbox or lat, lon and radius_m, not both.")
    if has_bbox:
        return parse_bbox(args["bbox"])
    if has_circle:
        return parse_circle(args.get("lat"), args.get("lon"), args.get("radius_m"))
    raise BadArea("bbox", f"Say which area: {BBOX_EXAMPLE} (minlon,minlat,maxlon,maxlat) "
                          "or lat=51.4545&lon=-2.5879&radius_m=500.")
