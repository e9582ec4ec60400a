"""Serialising datasets as streamed CSV, JSON and GeoJSON, and describing the catalogue.

`export(dataset, fmt, ...)` returns a generator of text chunks. It opens its own Session on
the engine and closes it when the generator finishes or is closed (a client that goes away),
so a long download never holds the request's session or leaks a pooled connection.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from errors import NotFound
from opendata.datasets import BY_ID, CATALOGUE, Dataset
from spreadsheet import safe_cell
from timeutil import isoformat, utcnow

MEDIA_TYPES = {"csv": "text/csv", "json": "application/json", "geojson": "application/geo+json"}
CHUNK_ROWS = 500  # rows per chunk sent to the client


class UnknownDataset(NotFound):
    def __init__(self, dataset_id: str, fmt: str):
        super().__init__("dataset", f"{dataset_id}.{fmt}")
        self.dataset_id = dataset_id
        self.fmt = fmt


def get_dataset(dataset_id: str, fmt: str | None = None) -> Dataset:
    dataset = BY_ID.get(dataset_id)
    if dataset is None or (fmt is not None and fmt not in dataset.formats):
        raise UnknownDataset(dataset_id, fmt or "")
    return dataset


def _chunks(lines: Iterator[str]) -> Iterator[str]:
    buffer: list[str] = []
    for line in lines:
        buffer.append(line)
        if len(buffer) >= CHUNK_ROWS:
            yield "".join(buffer)
            buffer.clear()
    if buffer:
        yield "".join(buffer)


def _csv_lines(dataset: Dataset, rows: Iterator[tuple]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)

    def line(values) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow(values)
        return out.getvalue()

    yield line(dataset.field_names)
    for row in rows:
        yield line([safe_cell(value) for value in row])


def _json_lines(dataset: Dataset, rows: Iterator[tuple], licence: dict) -> Iterator[str]:
    names = dataset.field_names
    yield '{"dataset": %s, "licence": %s, "rows": [' % (json.dumps(dataset.id), json.dumps(licence))
    sep = "\n"
    for row in rows:
        yield sep + json.dumps(dict(zip(names, row)))
        sep = ",\n"
    yield "\n]}\n"


def _geojson_lines(dataset: Dataset, rows: Iterator[tuple], licence: dict) -> Iterator[str]:
    names = dataset.field_names
    lat, lon = names.index("lat"), names.index("lon")
    yield '{"type": "FeatureCollection", "licence": %s, "features": [' % json.dumps(licence)
    sep = "\n"
    for row in rows:
        properties = {name: value for i, (name, value) in enumerate(zip(names, row)) if i not in (lat, lon)}
        feature = {"type": "Feature", "id": properties.get("id"),
                   "geometry": {"type": "Point", "coordinates": [row[lon], row[lat]]}, "properties": properties}
        yield sep + json.dumps(feature)
        sep = ",\n"
    yield "\n]}\n"


def export(dataset: Dataset, fmt: str, *, engine: Engine, licence: dict, zone: str,
           now: datetime | None = None) -> Iterator[str]:
    """The dataset in `fmt`, as text chunks, read through a Session of its own (it needs no
    app context, so it runs wherever the server iterates the response)."""
    now = now or utcnow()
    with Session(engine) as session:
        rows = dataset.rows(session, now=now, zone=zone)
        if fmt == "csv":
            lines = _csv_lines(dataset, rows)
        elif fmt == "json":
            lines = _json_lines(dataset, rows, licence)
        else:
            lines = _geojson_lines(dataset, rows, licence)
        yield from _chunks(lines)


def catalogue(session: Session, *, licence: dict, url_for) -> list[dict]:
    """Every dataset with its fields, formats, download URLs, licence and update time (a
    datetime, or None before the first row).
    `url_for(dataset_id, fmt)` makes a download URL (the view passes Flask's)."""
    return [{"id": d.id, "title": d.title, "description": d.description, "licence": licence,
             "updated": d.updated(session),
             "fields": [{"name": f.name, "type": f.type, "meaning": f.meaning} for f in d.fields],
             "distributions": [{"format": fmt, "media_type": MEDIA_TYPES[fmt], "url": url_for(d.id, fmt)}
                               for fmt in d.formats]}
            for d in CATALOGUE]


def catalogue_document(entries: list[dict], *, licence: dict) -> dict:
    """The catalogue as /data.json serves it (times in ISO 8601 UTC)."""
    return {"title": "FixQuest open data", "licence": licence,
            "datasets": [{**entry, "updated": isoformat(entry["updated"])} for entry in entries]}
