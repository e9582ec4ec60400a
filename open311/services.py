"""Open311 domain functions: api_keys, the service catalogue, taking service requests and
finding them again. Plain functions over the session (they flush; the caller commits);
errors are DomainError subclasses that the blueprint turns into Open311 error lists.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from accounts.models import SYSTEM_ROLE, User
from challenges import rules
from challenges.models import RESOLVED_STATES, Problem, ProblemUpdate
from challenges.nearby import find_nearby
from challenges.services import report_problem
from challenges.tracker import AlreadyConfirmed, OwnProblem, confirm, survivor_of, unsubscribe
from errors import DomainError, NotFound, ValidationFailed
from open311.models import Open311ApiKey, Open311Request
from open311.ratelimit import RateLimiter
from timeutil import as_utc, utcnow

DESCRIPTION_MAX = 4000  # GeoReport v2: "free form text limited to 4,000 characters"
MEDIA_URL_MAX = 500
WINDOW = timedelta(days=90)  # the spec's default (and largest) date range
MAX_RESULTS = 1000
KEY_PREFIX = "o311_"
MAX_ID = 2**31 - 1  # the ids are PostgreSQL INTEGER columns

# Open311's names for the fields FixQuest's validation names.
OPEN311_FIELD = {"lon": "long", "category": "service_code", "address": "address_string"}


class Open311Error(DomainError):
    """An error answered as the spec's error list; `status` is the HTTP status."""


class InvalidApiKey(Open311Error):
    status = 403
    code = "invalid_api_key"

    def __init__(self) -> None:
        super().__init__("api_key is missing, unknown or revoked.")


class RateLimited(Open311Error):
    status = 429
    code = "rate_limited"

    def __init__(self, key_id: int, limit: int, window_s: int):
        super().__init__(f"Too many requests: this api_key may POST {limit} times a {window_s} s.")
        self.key_id = key_id
        self.limit = limit
        self.window_s = window_s


class BadArguments(Open311Error):
    """One or more arguments missing or wrong: one error in the list per field."""

    status = 400
    code = "bad_arguments"

    def __init__(self, fields: dict[str, str]):
        super().__init__("; ".join(f"{name}: {text}" for name, text in fields.items()),
                         fields={name: [text] for name, text in fields.items()})


class UnknownService(Open311Error):
    status = 404
    code = "unknown_service"

    def __init__(self, service_code: str):
        super().__init__(f"service_code {service_code!r} not found.")
        self.service_code = service_code


class UnknownResource(Open311Error):
    """Nothing here by that name: a path, a format or a token."""

    status = 404
    code = "unknown_resource"


class UnknownRequest(Open311Error):
    status = 404
    code = "unknown_request"

    def __init__(self, service_request_id: str):
        super().__init__(f"service_request_id {service_request_id!r} not found.")
        self.service_request_id = service_request_id


# --- api_keys ------------------------------------------------------------------------------

def _digest(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def reporter_name(key_name: str) -> str:
    """The public display name of a key's reports (display names hold 40 characters)."""
    return f"Open311 client {key_name.strip()}"[:40]


def create_key(session: Session, *, name: str, created_by: User | None = None,
               now: datetime | None = None) -> tuple[Open311ApiKey, str]:
    """A new api_key and its system user; the plain key is returned once, only its digest kept.

    The system user is made with the key (not at its first post), so two first posts racing
    cannot make two. It has no usable password, an address in the reserved .invalid domain
    that no mail can reach, and is hidden from leaderboards.
    """
    name = (name or "").strip()
    if not 1 <= len(name) <= 80:
        raise BadArguments({"name": "Give the key a name of 1 to 80 characters."})
    now = now or utcnow()
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = Open311ApiKey(name=name, key_hash=_digest(plain), created_at=now,
                        created_by=created_by.id if created_by else None)
    session.add(key)
    session.flush()
    reporter = User(email=f"open311-key-{key.id}@open311.invalid", password_hash="!",
                    display_name=reporter_name(name), role=SYSTEM_ROLE, hidden_from_boards=True,
                    created_at=now)
    session.add(reporter)
    session.flush()
    key.reporter_id = reporter.id
    session.flush()
    return key, plain


def list_keys(session: Session) -> list[Open311ApiKey]:
    return list(session.scalars(select(Open311ApiKey).order_by(Open311ApiKey.id)))


def revoke_key(session: Session, *, key_id: int, now: datetime | None = None) -> Open311ApiKey:
    key = session.get(Open311ApiKey, key_id)
    if key is None:
        raise NotFound("api_key", key_id)
    if key.revoked_at is None:
        key.revoked_at = now or utcnow()
        session.flush()
    return key


def key_for(session: Session, plain: str | None, *, now: datetime | None = None) -> Open311ApiKey:
    """The live key for this plain api_key, marked as used; InvalidApiKey otherwise."""
    if not plain:
        raise InvalidApiKey()
    key = session.scalar(select(Open311ApiKey).where(Open311ApiKey.key_hash == _digest(plain),
                                                     Open311ApiKey.revoked_at.is_(None)))
    if key is None:
        raise InvalidApiKey()
    key.last_used_at = now or utcnow()
    return key


def check_rate(limiter: RateLimiter, key: Open311ApiKey, *, limit: int, window_s: int = 60) -> None:
    """Count a POST against the key's fixed window. Counted by digest, never by id: ids are
    reused after a table is emptied, digests are not."""
    if not limiter.hit(key.key_hash[:32], limit=limit, window_s=window_s):
        raise RateLimited(key.id, limit, window_s)


# --- services ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Service:
    code: str
    category: str

    @property
    def name(self) -> str:
        return self.category[:1].upper() + self.category[1:]


def service_code(category: str) -> str:
    """A URL-safe code for a category: 'street lighting' -> 'street-lighting'."""
    return re.sub(r"[^a-z0-9]+", "-", category.lower()).strip("-") or "other"


def catalogue(categories: Sequence[str]) -> list[Service]:
    seen: dict[str, Service] = {}
    for category in categories:
        seen.setdefault(service_code(category), Service(service_code(category), category))
    return list(seen.values())


def service_for(categories: Sequence[str], code: str) -> Service:
    for service in catalogue(categories):
        if service.code == code:
            return service
    raise UnknownService(code)


def service_of_category(categories: Sequence[str], category: str) -> Service:
    return Service(service_code(category), category)


# --- posting a request ---------------------------------------------------------------------

@dataclass(frozen=True)
class Submission:
    problem: Problem
    duplicate: bool  # True: an existing request answered, and confirmed by the client


def _number(fields: dict[str, str], name: str, raw: str | None) -> float | None:
    if raw is None or not raw.strip():
        return None
    try:
        return float(raw)
    except ValueError:
        fields[name] = "must be a decimal number (WGS84)."
        return None


def _check_media_url(fields: dict[str, str], media_url: str | None) -> str | None:
    media_url = (media_url or "").strip() or None
    if media_url is None:
        return None
    if len(media_url) > MEDIA_URL_MAX or not re.match(r"https?://[^\s/]+", media_url):
        fields["media_url"] = f"must be an http(s) URL of at most {MEDIA_URL_MAX} characters."
    return media_url


def title_for(description: str, service: Service) -> str:
    """FixQuest needs a title; Open311 has none. The description's first line, cut at a word
    before 120 characters, or the service's name."""
    first = " ".join(description.strip().splitlines()[0].split()) if description.strip() else ""
    if len(first) > rules.TITLE_MAX:
        first = first[:rules.TITLE_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"
    return first if len(first) >= 3 else service.name


def _stop_following(session: Session, reporter: User, problem: Problem) -> None:
    """report_problem and confirm make the actor follow the problem; a system user has no
    one to tell, so it follows nothing (and so is never sent anything)."""
    unsubscribe(session, actor=reporter, problem=problem)


def submit_request(session: Session, *, key: Open311ApiKey, form: Mapping[str, str],
                   categories: Sequence[str], radius_m: float,
                   now: datetime | None = None) -> Submission:
    """POST requests: a new problem reported by the key's system user, or, when an
    unresolved problem of that service is already within `radius_m`, that problem,
    confirmed by the system user ("I see this too").

    Only service_code, lat, long, address_string, description and media_url are used.
    email, first_name, last_name, phone, device_id and account_id are read by no one and
    stored nowhere: FixQuest has no use for them, and what is not kept cannot leak."""
    fields: dict[str, str] = {name: "may not contain NUL characters." for name, value in form.items()
                              if "\x00" in value}  # PostgreSQL cannot store them in text
    code = (form.get("service_code") or "").strip()
    service = None
    if not code:
        fields["service_code"] = "is required."
    else:
        try:
            service = service_for(categories, code)
        except UnknownService:
            fields["service_code"] = f"{code!r} is not a service here (see services.xml)."
    lat, lon = _number(fields, "lat", form.get("lat")), _number(fields, "long", form.get("long"))
    address = (form.get("address_string") or "").strip() or None
    if "lat" not in fields and "long" not in fields:
        if lat is None and lon is None:
            fields["lat"] = ("lat and long are required: this server cannot geocode address_string "
                             "or address_id." if address or form.get("address_id")
                             else "a location is required: lat and long.")
        elif lat is None or lon is None:
            fields["lat" if lat is None else "long"] = "lat and long are required together."
        else:
            for name, messages in rules.coordinate_problems(lat, lon).items():
                fields[OPEN311_FIELD.get(name, name)] = messages[0]
    description = (form.get("description") or "").strip()
    if len(description) > DESCRIPTION_MAX:
        fields["description"] = f"is limited to {DESCRIPTION_MAX} characters ({len(description)} sent)."
    media_url = _check_media_url(fields, form.get("media_url"))
    if fields:
        raise BadArguments(fields)
    reporter = key.reporter
    nearby = find_nearby(session, lat=lat, lon=lon, radius_m=radius_m, category=service.category, limit=1)
    if nearby:
        return Submission(_confirm_existing(session, reporter, nearby[0].problem, now), duplicate=True)
    problem = _report(session, reporter=reporter, service=service, description=description, lat=lat,
                      lon=lon, address=address, categories=categories, now=now)
    session.add(Open311Request(problem_id=problem.id, api_key_id=key.id, media_url=media_url,
                               created_at=problem.created_at))
    session.flush()
    return Submission(problem, duplicate=False)


def _confirm_existing(session: Session, reporter: User, problem: Problem, now: datetime | None) -> Problem:
    try:
        confirmed = confirm(session, actor=reporter, problem=problem, now=now)
    except (OwnProblem, AlreadyConfirmed):
        return survivor_of(session, problem)  # this client already counts; same answer
    _stop_following(session, reporter, confirmed)
    return confirmed


def _report(session: Session, *, reporter: User, service: Service, description: str, lat: float, lon: float,
            address: str | None, categories: Sequence[str], now: datetime | None) -> Problem:
    try:
        problem = report_problem(session, actor=reporter, title=title_for(description, service),
                                 description=description or f"{service.name}, reported through Open311.",
                                 category=service.category, lat=lat, lon=lon, address=address,
                                 categories=categories, now=now)
    except ValidationFailed as error:
        raise BadArguments({OPEN311_FIELD.get(name, name): " ".join(messages)
                            for name, messages in error.fields.items()}) from None
    _stop_following(session, reporter, problem)
    return problem


# --- finding requests ----------------------------------------------------------------------

@dataclass(frozen=True)
class RequestQuery:
    ids: tuple[int, ...] | None = None  # overrides every other filter (the spec says so)
    categories: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] | None = None  # "open", "closed"
    page: int = 1
    page_size: int = MAX_RESULTS


def parse_datetime(fields: dict[str, str], name: str, raw: str | None) -> datetime | None:
    """A W3C/ISO 8601 datetime; one without a zone is taken as UTC."""
    if raw is None or not raw.strip():
        return None
    try:
        return as_utc(datetime.fromisoformat(raw.strip().replace(" ", "+")))
    except ValueError:
        fields[name] = "must be a W3C datetime, e.g. 2010-01-01T00:00:00Z."
        return None


def _whole(fields: dict[str, str], name: str, raw: str | None, default: int, top: int) -> int:
    if raw is None or not raw.strip():
        return default
    if not raw.strip().isdigit() or not 1 <= int(raw) <= top:
        fields[name] = f"must be a whole number from 1 to {top}."
        return default
    return int(raw)


def _list(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def window(fields: dict[str, str], start: datetime | None, end: datetime | None,
           now: datetime) -> tuple[datetime | None, datetime | None]:
    """The spec's date range: the last 90 days by default; 90 days from start_date or up to
    end_date when only one is given; never longer than 90 days."""
    if start is None and end is None:
        return now - WINDOW, None
    if start is None:
        return end - WINDOW, end
    if end is None:
        return start, start + WINDOW
    if end < start:
        fields["end_date"] = "must not be before start_date."
    elif end - start > WINDOW:
        fields["end_date"] = "the range may not span more than 90 days."
    return start, end


def parse_query(args: Mapping[str, str], *, categories: Sequence[str], now: datetime | None = None) -> RequestQuery:
    """GET requests' arguments; BadArguments names each one that is wrong."""
    now = now or utcnow()
    fields: dict[str, str] = {}
    page = _whole(fields, "page", args.get("page"), 1, 1_000_000)
    page_size = _whole(fields, "page_size", args.get("page_size"), MAX_RESULTS, MAX_RESULTS)
    raw_ids = _list(args.get("service_request_id"))
    if raw_ids:
        if fields:
            raise BadArguments(fields)
        ids = tuple(int(i) for i in raw_ids if i.isdigit() and int(i) <= MAX_ID)[:MAX_RESULTS]
        return RequestQuery(ids=ids, page=page, page_size=page_size)
    codes = _list(args.get("service_code"))
    by_code = {service.code: service.category for service in catalogue(categories)}
    chosen = tuple(by_code[c] for c in codes if c in by_code) if codes else None
    statuses = tuple(s.lower() for s in _list(args.get("status"))) or None
    if statuses and not set(statuses) <= {"open", "closed"}:
        fields["status"] = "must be open, closed or both (comma-separated)."
    start = parse_datetime(fields, "start_date", args.get("start_date"))
    end = parse_datetime(fields, "end_date", args.get("end_date"))
    if "start_date" not in fields and "end_date" not in fields:
        start, end = window(fields, start, end, now)
    if fields:
        raise BadArguments(fields)
    return RequestQuery(categories=chosen, start=start, end=end, statuses=statuses, page=page,
                        page_size=page_size)


def find_requests(session: Session, query: RequestQuery) -> list[Problem]:
    """Problems matching the query, newest first, one page; merged problems are left out
    (asked for by id, their survivors answer instead)."""
    if query.ids is not None:
        return _by_ids(session, query.ids)
    stmt = select(Problem).where(Problem.merged_into_id.is_(None))
    if query.categories is not None:
        stmt = stmt.where(Problem.category.in_(query.categories))
    if query.start is not None:
        stmt = stmt.where(Problem.created_at >= query.start)
    if query.end is not None:
        stmt = stmt.where(Problem.created_at <= query.end)
    if query.statuses and set(query.statuses) != {"open", "closed"}:
        resolved = Problem.status.in_(RESOLVED_STATES)
        stmt = stmt.where(resolved if "closed" in query.statuses else ~resolved)
    stmt = (stmt.order_by(Problem.created_at.desc(), Problem.id.desc())
            .offset((query.page - 1) * query.page_size).limit(query.page_size))
    return list(session.scalars(stmt))


def _by_ids(session: Session, ids: Sequence[int]) -> list[Problem]:
    found = list(session.scalars(select(Problem).where(Problem.id.in_(ids))))
    result: dict[int, Problem] = {}
    for problem in found:
        survivor = survivor_of(session, problem) if problem.merged_into_id is not None else problem
        result.setdefault(survivor.id, survivor)
    return sorted(result.values(), key=lambda p: (p.created_at, p.id), reverse=True)


def get_request(session: Session, service_request_id: str) -> Problem:
    """One request; a merged one answers as its survivor."""
    if not service_request_id.isdigit() or int(service_request_id) > MAX_ID:
        raise UnknownRequest(service_request_id)
    problem = session.get(Problem, int(service_request_id))
    if problem is None:
        raise UnknownRequest(service_request_id)
    return survivor_of(session, problem)


def media_urls(session: Session, problem_ids: Sequence[int]) -> dict[int, str]:
    """The media_url each Open311 client sent, by problem id, in one query."""
    if not problem_ids:
        return {}
    rows = session.execute(select(Open311Request.problem_id, Open311Request.media_url).where(
        Open311Request.problem_id.in_(problem_ids), Open311Request.media_url.is_not(None)))
    return {problem_id: url for problem_id, url in rows}


# --- updates (mySociety's extension) -------------------------------------------------------

@dataclass(frozen=True)
class RequestUpdate:
    update_id: str
    service_request_id: str
    status: str  # FixMyStreet's states: open, in_progress, fixed, closed, duplicate
    updated_datetime: datetime
    description: str
    update_row_id: int | None  # for photos; None for a merge seen from the duplicate


FMS_STATUS = {"open": "open", "confirmed": "open", "in_progress": "in_progress", "fixed": "fixed",
              "closed": "closed"}


def _describe(update: ProblemUpdate, status: str | None) -> str:
    if update.body:
        return update.body
    if update.kind == "status" and update.new_status:
        return f"Status changed to {update.new_status.replace('_', ' ')}."
    return update.kind.replace("_", " ").capitalize() + "."


def find_updates(session: Session, *, args: Mapping[str, str], now: datetime | None = None) -> list[RequestUpdate]:
    """Public history entries (status changes, comments, fixes, merges) in the window, oldest
    first, at most 1,000; each with the request's status after it. Problems merged into
    another appear once more as `duplicate` at the time of the merge."""
    now = now or utcnow()
    fields: dict[str, str] = {}
    start = parse_datetime(fields, "start_date", args.get("start_date"))
    end = parse_datetime(fields, "end_date", args.get("end_date"))
    if fields:
        raise BadArguments(fields)
    start, end = window(fields, start, end, now)
    if fields:
        raise BadArguments(fields)
    conditions = [ProblemUpdate.kind != "reported", ProblemUpdate.created_at >= start]
    if end is not None:
        conditions.append(ProblemUpdate.created_at <= end)
    earlier = ProblemUpdate.__table__.alias("earlier")
    status_then = (select(earlier.c.new_status)
                   .where(earlier.c.problem_id == ProblemUpdate.problem_id, earlier.c.id <= ProblemUpdate.id,
                          earlier.c.new_status.is_not(None))
                   .order_by(earlier.c.id.desc()).limit(1).scalar_subquery())
    rows = session.execute(select(ProblemUpdate, status_then).where(and_(*conditions))
                           .order_by(ProblemUpdate.created_at, ProblemUpdate.id).limit(MAX_RESULTS)).all()
    updates = [RequestUpdate(str(u.id), str(u.problem_id), FMS_STATUS.get(status or "open", "open"),
                             u.created_at, _describe(u, status), u.id) for u, status in rows]
    merged = select(Problem).where(Problem.merged_into_id.is_not(None), Problem.updated_at >= start)
    if end is not None:
        merged = merged.where(Problem.updated_at <= end)
    for problem in session.scalars(merged.limit(MAX_RESULTS)):
        updates.append(RequestUpdate(f"merged-{problem.id}", str(problem.id), "duplicate", problem.updated_at,
                                     f"The same problem as request {problem.merged_into_id}; "
                                     f"follow that one.", None))
    return sorted(updates, key=lambda u: (u.updated_datetime, u.update_id))[:MAX_RESULTS]
