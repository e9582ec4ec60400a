"""Reading requests: the JSON body, its field types, and query-string parameters.

Only the shape of the input is checked here (is `lat` a number, is `starts_at` a date and
time). Whether the value is acceptable (a latitude within ±90, a title short enough) is a
domain rule the service checks. A field that is absent or null reaches the service as None.

Wrong fields and list filters are 422s (ValidationFailed). A search that cannot run without
its parameters (GET /problems/nearby: lat, lon) answers 400 for any wrong parameter
instead: read_search_args raises InvalidParameter, naming each one as a 422 would.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from flask import current_app, request, url_for
from sqlalchemy import Select
from werkzeug.exceptions import BadRequest

from api.errors import MalformedBody, UnsupportedMediaType
from challenges.geo import BadArea
from errors import DomainError, ValidationFailed
from extensions import db
from maps.area import BBox, parse_bbox
from media.services import read_uploads
from timeutil import as_utc

MAX_ID = 2**31 - 1  # every id column is an INTEGER: PostgreSQL's holds no more (a larger one is a 500 there)
MAX_PAGE_SIZE = 100
_DATETIME_START = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", re.IGNORECASE)


class WrongType(ValueError):
    """A value of the wrong JSON type or form; the message is shown against its field."""


class InvalidParameter(DomainError):
    """Query parameters a search cannot run with: 400, naming each one in `fields`."""

    status = 400
    code = "invalid_parameter"

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__("Some query parameters are missing or wrong.", fields=fields)


# --- the body ------------------------------------------------------------------------------

def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The request body as a JSON object. `optional`: an empty body counts as {}.
    A body of another content type is a 415; no body, or one that is not a JSON object, a 400; a body
    over MAX_CONTENT_LENGTH a 413 (raised by Werkzeug as it is read)."""
    if not request.get_data(cache=True).strip():
        if optional:
            return {}
        raise MalformedBody("Send a JSON object as the body, with Content-Type: application/json.")
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as a JSON object with Content-Type: application/json.")
    try:
        body = request.get_json()
    except (BadRequest, RecursionError):
        raise MalformedBody("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise MalformedBody('The body must be a JSON object, like {"title": "..."}.')
    return body


def uploaded_files(*names: str, max_bytes: int) -> dict[str, list[bytes]]:
    """The files of a multipart/form-data body, by field name: the bytes of each file part
    (at most max_bytes + 1 of each, enough for media.images to refuse a larger one; names
    and declared types are ignored, the content decides). Any other body is a 415 (only
    the photo routes read this; every other route takes JSON); a body over
    MAX_CONTENT_LENGTH a 413 (raised by Werkzeug as it is read); a field sent as text
    instead of a file, a 422 naming it."""
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("Send the photos as multipart/form-data, each one a file part named "
                                   f"{' or '.join(repr(name) for name in names)}.")
    files, form = request.files, request.form
    not_files = {name: ["Send a file here (a file part with a filename), not text."]
                 for name in names if form.getlist(name)}
    if not_files:
        raise ValidationFailed(not_files)
    return {name: read_uploads(files.getlist(name), max_bytes=max_bytes) for name in names}


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise WrongType("Expected a string.")
    if "\x00" in value:
        raise WrongType("Text may not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise WrongType("Expected valid Unicode text.") from None
    return value


def number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WrongType("Expected a number.")
    return value


def whole_number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WrongType("Expected a whole number.")
    return value


def identifier(value: Any) -> int:
    if not 1 <= whole_number(value) <= MAX_ID:
        raise WrongType("Expected the id of an existing record.")
    return value


def id_list(value: Any) -> list[int]:
    """A JSON array of record ids, e.g. the team members who took part."""
    if not isinstance(value, list) or len(value) > 100:
        raise WrongType("Expected a list of ids (at most 100).")
    return [identifier(item) for item in value]


def timestamp(value: Any) -> datetime:
    """ISO 8601 date and time; with a zone it is converted to UTC, without one it is UTC."""
    example = "Expected an ISO 8601 date and time, like 2026-11-27T09:30:00Z."
    if not isinstance(value, str) or not _DATETIME_START.match(value):
        raise WrongType(example)
    try:
        return as_utc(datetime.fromisoformat(value))
    except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise WrongType(example) from None


def read_fields(body: Mapping[str, Any], readers: Mapping[str, Callable[[Any], Any]], *,
                required: Iterable[str] = ()) -> dict[str, Any]:
    """Check each named field's type; 422 naming every field that is wrong (or missing from
    `required`). Unnamed fields are ignored."""
    values: dict[str, Any] = {}
    fields: dict[str, list[str]] = {}
    required = set(required)
    for name, reader in readers.items():
        value = body.get(name)
        if value is None:
            if name in required:
                fields[name] = ["This field is required."]
            values[name] = None
            continue
        try:
            values[name] = reader(value)
        except WrongType as problem:
            fields[name] = [str(problem)]
    if fields:
        raise ValidationFailed(fields)
    return values


# --- the query string ----------------------------------------------------------------------

def int_arg(*, default: int, minimum: int, maximum: int) -> Callable[[str | None], int]:
    def read(raw: str | None) -> int:
        if raw is None or raw == "":
            return default
        # The length check first: int() refuses strings of over 4,300 digits with a ValueError.
        if len(raw) > 20 or not raw.isascii() or not raw.isdigit() or not minimum <= int(raw) <= maximum:
            raise WrongType(f"Expected a whole number from {minimum} to {maximum}.")
        return int(raw)
    return read


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def number_arg(*, default: float | None = None, example: str = "51.4545") -> Callable[[str | None], float]:
    """A decimal number such as 51.4545 or -2.5879 (no NaN or infinity); without a default
    the parameter is required."""
    def read(raw: str | None) -> float:
        if raw is None or raw == "":
            if default is None:
                raise WrongType(f"Required: a number, like {example}.")
            return default
        if len(raw) > 40 or not _DECIMAL.fullmatch(raw) or not math.isfinite(value := float(raw)):
            raise WrongType(f"Expected a number, like {example}.")
        return value
    return read


def choice_arg(options: Iterable[str]) -> Callable[[str | None], str | None]:
    options = tuple(options)

    def read(raw: str | None) -> str | None:
        if raw is None or raw == "":
            return None
        if raw not in options:
            raise WrongType(f"Choose one of: {', '.join(options)}.")
        return raw
    return read


def read_args(**readers: Callable[[str | None], Any]) -> dict[str, Any]:
    """Query parameters by name; 422 naming every one that is wrong."""
    values, fields = _read_query(readers)
    if fields:
        raise ValidationFailed(fields)
    return values


def read_search_args(**readers: Callable[[str | None], Any]) -> dict[str, Any]:
    """Like read_args, for a search that cannot run without them: 400 (InvalidParameter)."""
    values, fields = _read_query(readers)
    if fields:
        raise InvalidParameter(fields)
    return values


def _read_query(readers: Mapping[str, Callable[[str | None], Any]]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    values: dict[str, Any] = {}
    fields: dict[str, list[str]] = {}
    for name, reader in readers.items():
        try:
            values[name] = reader(request.args.get(name))
        except WrongType as problem:
            fields[name] = [str(problem)]
    return values, fields


# --- pages ---------------------------------------------------------------------------------

class BadBBox(DomainError):
    status = 400
    code = "bad_bbox"

    def __init__(self, message: str):
        super().__init__(message, fields={"bbox": [message]})


def bbox_arg() -> BBox | None:
    """`bbox=minlon,minlat,maxlon,maxlat` (may cross the antimeridian); malformed: 400."""
    raw = request.args.get("bbox")
    if raw is None or raw == "":
        return None
    try:
        return parse_bbox(raw)
    except BadArea as error:
        raise BadBBox(error.message) from None


def time_arg() -> Callable[[str | None], datetime | None]:
    """An ISO 8601 date and time (e.g. updated_since=2026-11-27T09:30:00Z); none means no filter."""
    def read(raw: str | None) -> datetime | None:
        if raw is None or raw == "":
            return None
        return timestamp(raw)
    return read


def page_args() -> dict[str, Callable[[str | None], int]]:
    """Readers for `page` and `page_size`, to pass to read_args with a list's filters."""
    return {"page": int_arg(default=1, minimum=1, maximum=2**31 - 1),
            "page_size": int_arg(default=min(current_app.config["PAGE_SIZE"], MAX_PAGE_SIZE),
                                 minimum=1, maximum=MAX_PAGE_SIZE)}


def paginated(stmt: Select, serialise: Callable[[Any], dict], args: Mapping[str, Any]) -> dict:
    """One page of `stmt` as {"items", "page", "page_size", "total", "next", "prev"}.
    `args` comes from read_args(..., **page_args()); `next`/`prev` are URLs keeping the
    other args (the filters), or null at either end."""
    page = db.paginate(stmt, page=args["page"], per_page=args["page_size"], error_out=False)
    kept = {name: value for name, value in request.args.items()  # the filters, as the caller wrote them
            if value and name not in ("page", "page_size")}

    def link(number: int) -> str:
        return url_for(request.endpoint, **(request.view_args or {}), **kept,
                       page=number, page_size=page.per_page)

    return {"items": [serialise(item) for item in page.items], "page": page.page,
            "page_size": page.per_page, "total": page.total,
            "next": link(page.page + 1) if page.has_next else None,
            "prev": link(page.page - 1) if page.page > 1 else None}


def paginated_list(items: Sequence[Any], serialise: Callable[[Any], dict], args: Mapping[str, Any]) -> dict:
    """A page of an already-loaded list (a team's members, an event's entries), in the same
    shape as `paginated`: for the short lists whose rules live in Python, not in a query."""
    size, number = args["page_size"], args["page"]
    start = (number - 1) * size
    kept = {name: value for name, value in request.args.items() if value and name not in ("page", "page_size")}

    def link(page: int) -> str:
        return url_for(request.endpoint, **(request.view_args or {}), **kept, page=page, page_size=size)

    return {"items": [serialise(item) for item in items[start:start + size]], "page": number,
            "page_size": size, "total": len(items),
            "next": link(number + 1) if start + size < len(items) else None,
            "prev": link(number - 1) if number > 1 else None}


def text_arg(*, max_length: int = 100) -> Callable[[str | None], str | None]:
    """Free text for a filter (e.g. part of a name); empty means no filter."""
    def read(raw: str | None) -> str | None:
        if raw is None or not raw.strip():
            return None
        if len(raw) > max_length or "\x00" in raw:
            raise WrongType(f"Expected text of at most {max_length} characters.")
        return raw.strip()
    return read


def bool_arg(raw: str | None) -> bool:
    """true/false (also 1/0, yes/no); absent means false."""
    if raw is None or raw == "":
        return False
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise WrongType("Expected true or false.")


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise WrongType("Expected true or false.")
    return value


def one_of(*options: Any) -> Callable[[Any], Any]:
    """A JSON value that must be one of `options` (e.g. a join code's lifetime in days)."""
    def read(value: Any) -> Any:
        if isinstance(value, bool) or value not in options:
            raise WrongType(f"Choose one of: {', '.join(map(str, options))}.")
        return value
    return read
