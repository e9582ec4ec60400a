"""Importing service requests from another GeoReport v2 server (`flask --app app open311 import`).

The source is read with the standard library only (urllib, json, xml.etree), so production
needs no HTTP client. Each request becomes a FixQuest problem reported by a system user made
for that source ("Imported from <host>"); `open311_imported` remembers the source and its id,
and its UNIQUE(source, external_id) makes a request import once however many runs overlap.
Re-runs mirror status changes through `challenges.services.change_status`, so the problem's
public history and its followers hear of them as of any organiser's change.

`import_windows` walks the date range in the spec's windows of at most 90 days and yields
after each one with its work flushed; the caller commits there, so a failure part-way leaves
whole windows behind, never half of one.
"""
from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import SYSTEM_ROLE, User
from challenges import rules
from challenges.models import Problem
from challenges.services import change_status, report_problem
from challenges.tracker import unsubscribe
from errors import DomainError, ValidationFailed
from open311.models import Open311Imported
from open311.services import WINDOW, Service, service_code, title_for
from timeutil import as_utc, utcnow

TIMEOUT_S = 30
PAGE_SIZE = 1000          # the spec's (and our server's) largest page
ID_BATCH = 50             # service_request_ids asked for in one GET when refreshing
MAX_BODY = 50 * 1024 * 1024
FALL_BACK_TO_XML = {400, 404, 405, 406, 415, 501}  # "no JSON here"; other statuses are failures
ORIGIN_STATUSES = ("open", "confirmed")  # what the spec's `open` with no detail means here

Fetch = Callable[[str], tuple[bytes, str]]


class ImportFailed(DomainError):
    """The source could not be read (network, HTTP status, unreadable document)."""

    status = 502
    code = "import_failed"

    def __init__(self, url: str, reason: str):
        super().__init__(f"Could not read {url}: {reason}")
        self.url = url
        self.reason = reason


class HttpStatus(ImportFailed):
    def __init__(self, url: str, status: int):
        super().__init__(url, f"HTTP {status}")
        self.http_status = status


class Malformed(ValueError):
    """One record that cannot be imported; `reason` is the summary's key, `detail` the line."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}{': ' + detail if detail else ''}")
        self.reason = reason


# --- fetching ------------------------------------------------------------------------------

def http_fetch(url: str, *, timeout: float = TIMEOUT_S) -> tuple[bytes, str]:
    """GET `url`: its body and Content-Type. HttpStatus for an HTTP error status,
    ImportFailed for anything else that goes wrong on the way."""
    request = urllib.request.Request(url, headers={
        "User-Agent": "FixQuest-Open311-importer/1", "Accept": "application/json, text/xml;q=0.9, */*;q=0.1"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http(s) checked)
            body = response.read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                raise ImportFailed(url, f"the answer is larger than {MAX_BODY // 2**20} MB")
            return body, response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        raise HttpStatus(url, error.code) from None
    except urllib.error.URLError as error:
        raise ImportFailed(url, str(error.reason)) from None
    except (TimeoutError, OSError) as error:
        raise ImportFailed(url, str(error) or type(error).__name__) from None


# --- documents -----------------------------------------------------------------------------

WRAPPERS = ("service_requests", "requests", "request", "services", "service",
            "service_request_updates", "request_updates", "request_update")


def _element(element: ET.Element):
    """An XML element as plain data: text for a leaf, a dict for children (a list where a
    name repeats)."""
    if len(element) == 0:
        text = (element.text or "").strip()
        return text or None
    value: dict = {}
    for child in element:
        name = child.tag.rsplit("}", 1)[-1]
        item = _element(child)
        if name in value:
            if not isinstance(value[name], list):
                value[name] = [value[name]]
            value[name].append(item)
        else:
            value[name] = item
    return value


def records(data) -> list:
    """The records of a document: an array, a lone object where an array was due, or an
    array wrapped in an object ({"service_requests": [...]}, xmltodict's {"request": {...}})."""
    if data is None:
        return []
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for name in WRAPPERS:
            if name in data and len(data) == 1:
                return records(data[name])
        return [data]
    return [data]


def parse_document(body: bytes, fmt: str) -> list:
    """Records from a JSON or XML body; ValueError when it is neither."""
    if fmt == "json":
        return records(json.loads(body.decode("utf-8-sig")))
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise ValueError(f"not XML: {error}") from None
    if root.tag == "errors":
        raise ValueError("the server answered with an error list")
    return [_element(child) for child in root]


# --- one record ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RemoteRequest:
    external_id: str
    service_code: str | None
    service_name: str | None
    status: str
    status_notes: str | None
    detailed_status: str | None
    description: str | None
    address: str | None
    lat: float
    lon: float
    requested_at: datetime | None
    updated_at: datetime | None


def text_of(value) -> str | None:
    """A scalar as text: numbers as written (1.0 -> "1"), empty and objects as None."""
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def parse_remote_datetime(raw) -> datetime | None:
    """A W3C datetime with or without an offset (none means UTC); None if unreadable."""
    text = text_of(raw)
    if text is None:
        return None
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text.replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        return as_utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def _coordinate(value) -> float | None:
    text = text_of(value)
    if text is None:
        return None
    try:
        number = float(text.replace(",", ".")) if text.count(",") == 1 and "." not in text else float(text)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def parse_request(record) -> RemoteRequest:
    """One service request as sent; Malformed when it cannot become a problem."""
    if not isinstance(record, dict):
        raise Malformed("not an object", repr(record)[:80])
    external_id = text_of(record.get("service_request_id"))
    if external_id is None:
        raise Malformed("no service_request_id",
                        f"service_code {text_of(record.get('service_code'))!r}, "
                        f"requested {text_of(record.get('requested_datetime'))!r}")
    if len(external_id) > 200:
        raise Malformed("service_request_id too long", external_id[:40] + "…")
    raw_lat, raw_lon = record.get("lat"), record.get("long", record.get("lon"))
    lat, lon = _coordinate(raw_lat), _coordinate(raw_lon)
    if text_of(raw_lat) is None and text_of(raw_lon) is None:
        raise Malformed("no coordinates", f"request {external_id}: only an address; FixQuest does not geocode")
    if lat is None or lon is None or rules.coordinate_problems(lat, lon):
        raise Malformed("bad coordinates", f"request {external_id}: lat {text_of(raw_lat)!r}, "
                                           f"long {text_of(raw_lon)!r}")
    extended = record.get("extended_attributes") if isinstance(record.get("extended_attributes"), dict) else {}
    return RemoteRequest(
        external_id=external_id,
        service_code=text_of(record.get("service_code")),
        service_name=text_of(record.get("service_name")),
        status=(text_of(record.get("status")) or "open").lower(),
        status_notes=text_of(record.get("status_notes")),
        detailed_status=text_of(record.get("detailed_status")) or text_of(extended.get("detailed_status")),
        description=text_of(record.get("description")),
        address=text_of(record.get("address")) or text_of(record.get("address_string")),
        lat=lat, lon=lon,
        requested_at=parse_remote_datetime(record.get("requested_datetime")),
        updated_at=parse_remote_datetime(record.get("updated_datetime")),
    )


@dataclass(frozen=True)
class RemoteUpdate:
    external_id: str
    status: str | None
    description: str | None
    updated_at: datetime | None


def parse_update(record) -> RemoteUpdate | None:
    if not isinstance(record, dict) or text_of(record.get("service_request_id")) is None:
        return None
    return RemoteUpdate(text_of(record.get("service_request_id")), text_of(record.get("status")),
                        text_of(record.get("description")), parse_remote_datetime(record.get("updated_datetime")))


# --- statuses and categories (pure) --------------------------------------------------------

def _word(value: str | None) -> str:
    return re.sub(r"[^a-z]+", "_", (value or "").lower()).strip("_")


def says_fixed(text: str | None) -> bool:
    """status_notes like "Fixed", "Closed: fixed." or "Pothole fixed on 3 May" (not "not fixed")."""
    lowered = (text or "").lower()
    return bool(re.search(r"\bfixed\b", lowered)) and not re.search(r"\b(not|un|never)[ -]?fixed\b", lowered)


def local_status(status: str, *, detailed: str | None = None, notes: str | None = None) -> str:
    """The spec's open/closed (plus detailed_status, status_notes or the latest update's
    status) as one of FixQuest's statuses. Closed is `closed` unless something says fixed;
    open is `open` unless the detail says work is in progress."""
    spec, detail = _word(status), _word(detailed)
    if spec in ("closed", "fixed", "resolved", "completed") or detail in ("fixed", "closed"):
        return "fixed" if spec == "fixed" or detail.startswith("fixed") or says_fixed(notes) else "closed"
    if detail in ("in_progress", "action_scheduled", "investigating", "confirmed_in_progress"):
        return "in_progress"
    return "open"


def category_for(code: str | None, name: str | None, categories: Sequence[str]) -> str | None:
    """Our category for a remote service: the same code, the same name, a category named as
    a whole word of the name ("Pothole repair" -> pothole), else `other` (None if there is
    no `other`)."""
    by_code = {service_code(category): category for category in categories}
    for candidate in (code, name):
        if candidate and service_code(candidate) in by_code:
            return by_code[service_code(candidate)]
    if name:
        words = f"-{service_code(name)}-"
        for slug, category in by_code.items():
            if slug != "other" and f"-{slug}-" in words:
                return category
    return by_code.get("other")


# --- the system user -----------------------------------------------------------------------

def source_of(url: str) -> str:
    """The endpoint's base URL as the key we store: no query, no trailing slash."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImportFailed(url, "give the endpoint's http(s) base URL, e.g. https://example.org/open311/v2")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def importer_name(source: str) -> str:
    return f"Imported from {urllib.parse.urlsplit(source).hostname or source}"[:40]


def importer_user(session: Session, source: str, *, now: datetime | None = None) -> User:
    """The source's system user, made on first use, as open311.services makes a key's: role
    `system` (never an organiser, so it can do nothing a person does), no usable password,
    an address in the reserved .invalid domain derived from the source (the unique email
    column makes two first runs racing agree on one user), hidden from leaderboards."""
    email = f"open311-import-{hashlib.sha256(source.encode()).hexdigest()[:24]}@open311.invalid"
    user = session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user
    try:
        with session.begin_nested():
            user = User(email=email, password_hash="!", display_name=importer_name(source), role=SYSTEM_ROLE,
                        hidden_from_boards=True, created_at=now or utcnow())
            session.add(user)
    except IntegrityError:
        user = session.scalar(select(User).where(User.email == email))
    return user


# --- the run -------------------------------------------------------------------------------

@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Counter = field(default_factory=Counter)
    windows: int = 0

    def summary(self) -> str:
        skipped = sum(self.skipped.values())
        reasons = "; ".join(f"{count} {reason}" for reason, count in self.skipped.most_common())
        return (f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{skipped} skipped{' (' + reasons + ')' if reasons else ''}")


@dataclass
class Importer:
    session: Session
    source: str
    categories: Sequence[str]
    jurisdiction: str | None = None
    fetch: Fetch = http_fetch
    log: Callable[[str], None] = lambda line: None
    now: datetime = field(default_factory=utcnow)
    fmt: str | None = None  # "json" or "xml", found when the services are read
    report: Report = field(default_factory=Report)
    seen: set[str] = field(default_factory=set)           # external ids read in this run
    reported: set[str] = field(default_factory=set)       # malformed records already reported
    latest_updates: dict[str, RemoteUpdate] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.source).hostname or self.source

    # -- reading

    def url(self, resource: str, fmt: str, params: dict | None = None) -> str:
        query = {k: v for k, v in {**(params or {}), "jurisdiction_id": self.jurisdiction}.items() if v is not None}
        return f"{self.source}/{resource}.{fmt}" + ("?" + urllib.parse.urlencode(query) if query else "")

    def get(self, resource: str, params: dict | None = None) -> list:
        """A resource's records, in JSON where the server has it, else XML."""
        for fmt in ([self.fmt] if self.fmt else ["json", "xml"]):
            url = self.url(resource, fmt, params)
            try:
                body, _type = self.fetch(url)
                result = parse_document(body, fmt)
            except HttpStatus as error:
                if self.fmt or fmt == "xml" or error.http_status not in FALL_BACK_TO_XML:
                    raise
                continue
            except ValueError as error:  # includes json.JSONDecodeError
                if self.fmt or fmt == "xml":
                    raise ImportFailed(url, f"unreadable {fmt.upper()} ({error})") from None
                continue
            self.fmt = fmt
            return result
        raise AssertionError("unreachable")

    def read_services(self) -> dict[str, str]:
        """Remote service_code -> our category."""
        mapping = {}
        for record in self.get("services"):
            if isinstance(record, dict) and text_of(record.get("service_code")):
                code = text_of(record["service_code"])
                category = category_for(code, text_of(record.get("service_name")), self.categories)
                if category is not None:
                    mapping[code] = category
        return mapping

    def read_updates(self, start: datetime, end: datetime) -> None:
        """mySociety's servicerequestupdates where the server has it: the latest update of
        each request in the range (its status and words refine the request's)."""
        try:
            for window_start, window_end in windows(start, end):
                for record in self.get("servicerequestupdates", _dates(window_start, window_end)):
                    update = parse_update(record)
                    if update is None:
                        continue
                    known = self.latest_updates.get(update.external_id)
                    if known is None or (update.updated_at or start) >= (known.updated_at or start):
                        self.latest_updates[update.external_id] = update
        except HttpStatus as error:
            if error.http_status not in FALL_BACK_TO_XML:
                raise
            self.log("The source has no servicerequestupdates; statuses come from the requests alone.")

    # -- writing

    def process(self, raw_records: list, mapping: dict[str, str]) -> int:
        """Import or update a batch; the number of records new to this run."""
        parsed: list[RemoteRequest] = []
        for record in raw_records:
            try:
                remote = parse_request(record)
            except Malformed as error:
                fingerprint = json.dumps(record, sort_keys=True, default=str)
                if fingerprint not in self.reported:  # windows meet at an instant: report it once
                    self.reported.add(fingerprint)
                    self.skip(error.reason, str(error))
                continue
            if remote.external_id not in self.seen:
                self.seen.add(remote.external_id)
                parsed.append(remote)
        rows = self._rows([r.external_id for r in parsed])
        for remote in parsed:
            row = rows.get(remote.external_id)
            if row is None:
                self._create(remote, mapping)
            else:
                self._update(row, remote)
        self.session.flush()
        return len(parsed)

    def skip(self, reason: str, line: str) -> None:
        self.report.skipped[reason] += 1
        self.log(f"skipped {line}")

    def _rows(self, external_ids: Sequence[str]) -> dict[str, Open311Imported]:
        """The imported rows and their problems for a batch, in two queries."""
        if not external_ids:
            return {}
        rows = list(self.session.scalars(select(Open311Imported).where(
            Open311Imported.source == self.source, Open311Imported.external_id.in_(external_ids))))
        problem_ids = [row.problem_id for row in rows]
        if problem_ids:
            list(self.session.scalars(select(Problem).where(Problem.id.in_(problem_ids))))  # into the identity map
        return {row.external_id: row for row in rows}

    def _target(self, remote: RemoteRequest) -> str:
        update = self.latest_updates.get(remote.external_id)
        detailed = remote.detailed_status or (update.status if update else None)
        return local_status(remote.status, detailed=detailed,
                            notes=remote.status_notes or (update.description if update else None))

    def _note(self, remote: RemoteRequest) -> str:
        update = self.latest_updates.get(remote.external_id)
        words = (update.description if update and update.description else None) or remote.status_notes
        note = f"Status on {self.host}: {remote.status}" + (f" ({words})" if words else "") + "."
        return note[:rules.REASON_MAX]

    def _create(self, remote: RemoteRequest, mapping: dict[str, str]) -> None:
        category = mapping.get(remote.service_code or "") or category_for(
            remote.service_code, remote.service_name, self.categories)
        if category is None:
            self.skip("no matching category", f"request {remote.external_id}: service {remote.service_code!r}")
            return
        service = Service(service_code(category), category)
        description = (remote.description or f"{service.name}, reported on {self.host}.")[:rules.DESCRIPTION_MAX]
        address = remote.address[:rules.ADDRESS_MAX] if remote.address else None
        reported_at = remote.requested_at if remote.requested_at and remote.requested_at <= self.now else self.now
        target = self._target(remote)
        try:
            with self.session.begin_nested():
                problem = report_problem(self.session, actor=self.user, title=title_for(description, service),
                                         description=description, category=category, lat=remote.lat, lon=remote.lon,
                                         address=address, categories=self.categories, now=reported_at)
                unsubscribe(self.session, actor=self.user, problem=problem)  # a system user follows nothing
                self.session.add(Open311Imported(source=self.source, external_id=remote.external_id,
                                                 problem_id=problem.id, remote_status=target,
                                                 remote_updated_at=remote.updated_at, last_seen_at=self.now,
                                                 created_at=self.now))
                self.session.flush()  # the unique constraint decides here
                if target != problem.status:
                    change_status(self.session, actor=self.user, problem=problem, status=target,
                                  note=self._note(remote), now=max(self.now, reported_at))
        except IntegrityError:
            self.report.unchanged += 1  # another run imported it a moment ago
            return
        except ValidationFailed as error:
            details = "; ".join(f"{name}: {' '.join(texts)}" for name, texts in error.fields.items())
            self.skip("rejected", f"request {remote.external_id}: {details}")
            return
        self.report.created += 1

    def _update(self, row: Open311Imported, remote: RemoteRequest) -> None:
        """Mirror a status change made on the source since we last read it. A source still
        saying what it said before leaves the problem alone, so a local organiser's change
        (say, open -> in_progress) is not undone by every run."""
        row.last_seen_at = self.now
        target = self._target(remote)
        problem = self.session.get(Problem, row.problem_id)
        changed = target != row.remote_status and problem.merged_into_id is None and not (
            target == "open" and problem.status in ORIGIN_STATUSES) and target != problem.status
        row.remote_status = target
        row.remote_updated_at = remote.updated_at or row.remote_updated_at
        if not changed:
            self.report.unchanged += 1
            return
        change_status(self.session, actor=self.user, problem=problem, status=target,
                      note=self._note(remote), now=self.now)
        self.report.updated += 1

    # -- set-up

    def start(self) -> None:
        self.user = importer_user(self.session, self.source, now=self.now)


def windows(start: datetime, end: datetime, size: timedelta = WINDOW) -> Iterator[tuple[datetime, datetime]]:
    """[start, end] in consecutive windows of at most `size` (the spec's 90 days)."""
    while start < end:
        stop = min(start + size, end)
        yield start, stop
        start = stop


def _dates(start: datetime, end: datetime) -> dict[str, str]:
    return {"start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "end_date": end.strftime("%Y-%m-%dT%H:%M:%SZ")}


def import_windows(session: Session, *, url: str, categories: Sequence[str], since: datetime | None = None,
                   jurisdiction: str | None = None, fetch: Fetch = http_fetch,
                   log: Callable[[str], None] = lambda line: None,
                   now: datetime | None = None) -> Iterator[Report]:
    """Import from the GeoReport v2 endpoint at `url`, yielding the running Report after
    each step whose writes are flushed: the caller commits at each yield.

    1. services: remote codes to our categories (JSON, else XML, for the whole run);
    2. servicerequestupdates (if offered) over the range, for the latest word on each request;
    3. requests in windows of at most 90 days from `since` (default: 90 days ago) to now,
       paged with page/page_size where the server pages;
    4. problems imported earlier and still unresolved here that no window returned (older
       than `since`), asked for by service_request_id in batches: their status changes too.
    """
    now = as_utc(now) or utcnow()
    importer = Importer(session=session, source=source_of(url), categories=tuple(categories),
                        jurisdiction=jurisdiction, fetch=fetch, log=log, now=now)
    until = now.replace(microsecond=0) + timedelta(seconds=1 if now.microsecond else 0)  # dates go in whole seconds
    start = as_utc(since) or until - WINDOW
    mapping = importer.read_services()
    importer.read_updates(start, until)
    importer.start()
    for window_start, window_end in windows(start, until):
        _walk_pages(importer, mapping, _dates(window_start, window_end))
        importer.report.windows += 1
        yield importer.report
    stale = _stale_ids(importer)
    for first in range(0, len(stale), ID_BATCH):
        batch = stale[first:first + ID_BATCH]
        importer.process(importer.get("requests", {"service_request_id": ",".join(batch)}), mapping)
        yield importer.report


def _walk_pages(importer: Importer, mapping: dict[str, str], dates: dict[str, str]) -> None:
    """Every page of one window. A server that ignores `page` sends the first page again,
    which holds nothing new: that ends the walk (with a warning if the page was full)."""
    page = 1
    while True:
        batch = importer.get("requests", {**dates, "page": page, "page_size": PAGE_SIZE})
        fresh = importer.process(batch, mapping)
        if len(batch) < PAGE_SIZE:
            return
        if fresh == 0:
            importer.log(f"warning: {dates['start_date']}..{dates['end_date']} returned a full page and the "
                         "server does not page; some requests may be missed (run with a later --since).")
            return
        page += 1


def _stale_ids(importer: Importer) -> list[str]:
    """Imported requests unresolved here that this run has not seen, plus any request the
    updates mention that we hold and have not seen."""
    rows = importer.session.execute(
        select(Open311Imported.external_id).join(Problem, Problem.id == Open311Imported.problem_id)
        .where(Open311Imported.source == importer.source, Problem.status.not_in(("fixed", "closed")),
               Problem.merged_into_id.is_(None))
        .order_by(Open311Imported.id)).scalars()
    wanted = [external_id for external_id in rows if external_id not in importer.seen]
    mentioned = [i for i in importer.latest_updates if i not in importer.seen and i not in wanted]
    if mentioned:
        held = set(importer.session.scalars(select(Open311Imported.external_id).where(
            Open311Imported.source == importer.source, Open311Imported.external_id.in_(mentioned))))
        wanted += [i for i in mentioned if i in held]
    return wanted
