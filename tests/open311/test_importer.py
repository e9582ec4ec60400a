"""`flask --app app open311 import`: requests from another GeoReport v2 server become problems
once, and their status changes arrive through change_status.

Two kinds of source: a second FixQuest instance (its own SQLite file, its real Open311
server on a loopback port), and a stub HTTP server answering with the payloads recorded in
fixtures/ (the variants real servers send, and malformed records)."""
from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from accounts.models import SYSTEM_ROLE, User
from app import create_app
from challenges import services as challenges
from challenges.models import Problem, ProblemUpdate
from challenges.tracker import subscribe
from extensions import db
from notifications.models import Notification
from open311 import importer
from open311.models import Open311Imported
from tests.conftest import app_config, wipe
from tests.factories import make_organiser, make_problem, make_user
from tests.notifications.helpers import drain
from timeutil import utcnow

FIXTURES = Path(__file__).parent / "fixtures"
CATEGORIES = ("pothole", "litter", "graffiti", "other")


# --- pure parts ----------------------------------------------------------------------------

@pytest.mark.parametrize("status, detailed, notes, expected", [
    ("open", None, None, "open"),
    ("Open", None, None, "open"),
    ("OPEN", "IN_PROGRESS", None, "in_progress"),
    ("open", "action scheduled", None, "in_progress"),
    ("closed", None, None, "closed"),
    ("Closed", None, "Completed - Fixed: graffiti painted over", "fixed"),
    ("closed", None, "Closed: not fixed, private land", "closed"),
    ("closed", "FIXED", None, "fixed"),
    ("closed", "DUPLICATE", None, "closed"),
    ("open", "fixed", None, "fixed"),
])
def test_statuses_map_open_and_closed_onto_ours(status, detailed, notes, expected):
    assert importer.local_status(status, detailed=detailed, notes=notes) == expected


@pytest.mark.parametrize("code, name, expected", [
    ("pothole", None, "pothole"),
    ("POTHOLE", "whatever", "pothole"),
    ("4ffa", "Graffiti Removal", "graffiti"),
    (3001, "Litter", "litter"),
    ("SWSS", "Street Light Out", "other"),
    (None, None, "other"),
])
def test_services_map_by_code_or_name_falling_back_to_other(code, name, expected):
    assert importer.category_for(importer.text_of(code), name, CATEGORIES) == expected


def test_without_an_other_category_an_unknown_service_has_none():
    assert importer.category_for("x", "Abandoned vehicle", ("pothole",)) is None


@pytest.mark.parametrize("raw, expected", [
    ("2026-11-20T08:15:02-06:00", "2026-11-20T14:15:02Z"),
    ("2026-11-20T08:15:02Z", "2026-11-20T08:15:02Z"),
    ("2026-11-20T08:15:02", "2026-11-20T08:15:02Z"),
    ("2026-11-20 08:15:02+0100", "2026-11-20T07:15:02Z"),
    ("2026-11-25T21:10:00.000-05:00", "2026-11-26T02:10:00Z"),
    ("2026-11-20", "2026-11-20T00:00:00Z"),
    ("yesterday", None),
    (None, None),
])
def test_dates_are_read_with_or_without_offsets(raw, expected):
    parsed = importer.parse_remote_datetime(raw)
    assert (parsed.strftime("%Y-%m-%dT%H:%M:%SZ") if parsed else None) == expected


def test_records_accept_arrays_lone_objects_and_wrappers():
    one = {"service_request_id": 1}
    assert importer.records([one]) == [one]
    assert importer.records(one) == [one]
    assert importer.records({"service_requests": [one]}) == [one]
    assert importer.records({"service_requests": {"request": one}}) == [one]
    assert importer.records(None) == []


def test_ids_are_text_however_they_were_sent():
    assert [importer.text_of(v) for v in (101, 103.0, " SR-1 ", "", None)] == ["101", "103", "SR-1", None, None]


def test_windows_are_consecutive_and_at_most_ninety_days():
    now = utcnow()
    spans = list(importer.windows(now - timedelta(days=200), now))
    assert len(spans) == 3 and spans[0][0] == now - timedelta(days=200) and spans[-1][1] == now
    assert all(end - start <= timedelta(days=90) for start, end in spans)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))


# --- a stub server answering with the recorded payloads ------------------------------------

class Stub:
    """A tiny GeoReport server on a loopback port: `routes` maps a path to a fixture name,
    (status, content_type, body) or a function of the query returning one; anything else is
    a 404 error list. Every request is kept in `calls` as (path, query)."""

    def __init__(self):
        self.routes: dict = {}
        self.calls: list[tuple[str, dict]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                stub.calls.append((parts.path, query))
                answer = stub.routes.get(parts.path)
                if callable(answer):
                    answer = answer(query)
                if isinstance(answer, str):
                    kind = "application/json" if answer.endswith(".json") else "text/xml"
                    answer = (200, kind, (FIXTURES / answer).read_bytes())
                if answer is None:
                    answer = (404, "application/json", b'[{"code": 404, "description": "not found"}]')
                status, kind, body = answer
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/open311/v2"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def requests_calls(self) -> list[dict]:
        return [query for path, query in self.calls if path.startswith("/open311/v2/requests.")]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def stub():
    server = Stub()
    yield server
    server.close()


def city(stub: Stub) -> Stub:
    stub.routes.update({"/open311/v2/services.json": "city_services.json",
                        "/open311/v2/requests.json": "city_requests.json"})
    return stub


def run_import(runner, url, *args):
    return runner.invoke(args=["open311", "import", url, *args])


def imported(app) -> dict[str, Problem]:
    """External id -> problem, read afresh."""
    with app.app_context():
        rows = db.session.execute(select(Open311Imported, Problem).join(
            Problem, Problem.id == Open311Imported.problem_id)).all()
        result = {row.external_id: problem for row, problem in rows}
        db.session.expunge_all()
        return result


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_recorded_variants_are_imported_and_malformed_records_reported(app, runner, stub):
    result = run_import(runner, city(stub).url)
    assert result.exit_code == 0, result.output
    problems = imported(app)
    assert sorted(problems) == ["101", "103", "104", "105", "SR26-01234567"]
    assert problems["101"].category == "pothole" and problems["101"].lat == pytest.approx(41.88153)
    assert problems["101"].title == "Large pothole in the eastbound lane, near the bus stop"
    assert problems["101"].created_at.isoformat() == "2026-11-20T14:15:02+00:00"  # -06:00 read
    assert problems["SR26-01234567"].category == "graffiti" and problems["SR26-01234567"].status == "fixed"
    assert problems["103"].category == "other" and problems["103"].status == "closed"
    assert problems["104"].category == "litter" and problems["104"].description == "Litter, reported on 127.0.0.1."
    assert problems["105"].category == "other" and problems["105"].status == "open"
    output = result.output
    assert "skipped no service_request_id" in output
    assert "skipped bad coordinates: request 107: lat 'n/a', long None" in output
    assert "skipped bad coordinates: request 108" in output
    assert "skipped no coordinates: request 109" in output
    assert ("5 created, 0 updated, 0 unchanged, 4 skipped (2 bad coordinates; 1 no service_request_id; "
            "1 no coordinates)") in output


def test_imported_problems_are_reported_by_a_system_user_per_source_who_follows_nothing(app, runner, stub):
    assert run_import(runner, city(stub).url).exit_code == 0
    with app.app_context():
        reporters = db.session.scalars(select(User).join(Problem, Problem.reporter_id == User.id)).unique().all()
        assert len(reporters) == 1
        user = reporters[0]
        assert user.display_name == "Imported from 127.0.0.1" and user.role == SYSTEM_ROLE
        assert not user.is_organiser and user.email.endswith("@open311.invalid") and user.hidden_from_boards
        assert user.password_hash == "!"
        from challenges.models import Subscription
        assert db.session.scalar(select(func.count()).select_from(Subscription)
                                 .where(Subscription.user_id == user.id)) == 0


def test_a_second_run_of_the_same_payloads_changes_nothing(app, runner, stub):
    assert run_import(runner, city(stub).url).exit_code == 0
    before = count(app, Problem), count(app, ProblemUpdate)
    again = run_import(runner, stub.url)
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 5 unchanged, 4 skipped" in again.output
    assert (count(app, Problem), count(app, ProblemUpdate)) == before
    assert count(app, User) == 1


def test_the_unique_constraint_refuses_a_second_row_for_the_same_source_and_id(app, runner, stub, ctx):
    assert run_import(runner, city(stub).url).exit_code == 0
    problem_id = db.session.scalar(select(Problem.id).limit(1))
    other = make_problem(make_user())
    db.session.add(Open311Imported(source=stub.url, external_id="101", problem_id=other.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert problem_id is not None


def test_updates_refine_statuses_when_the_server_offers_them(app, runner, stub):
    city(stub).routes["/open311/v2/servicerequestupdates.json"] = "city_updates.json"
    assert run_import(runner, stub.url).exit_code == 0
    problem = imported(app)["101"]
    assert problem.status == "in_progress"
    with app.app_context():
        entry = db.session.scalar(select(ProblemUpdate).where(ProblemUpdate.problem_id == problem.id,
                                                              ProblemUpdate.kind == "status"))
        assert entry.body == "Status on 127.0.0.1: open (Crew scheduled for Thursday.)."


def test_a_lone_object_where_an_array_was_due_is_one_request(app, runner, stub):
    stub.routes.update({"/open311/v2/services.json": "city_services.json",
                        "/open311/v2/requests.json": "lone_request.json"})
    result = run_import(runner, stub.url)
    assert result.exit_code == 0, result.output
    assert list(imported(app)) == ["777"] and "1 created" in result.output


def test_an_xml_only_server_is_read_in_xml(app, runner, stub):
    stub.routes.update({"/open311/v2/services.xml": "xmlonly_services.xml",
                        "/open311/v2/requests.xml": "xmlonly_requests.xml"})
    result = run_import(runner, stub.url, "--jurisdiction", "bonn.de")
    assert result.exit_code == 0, result.output
    problem = imported(app)["4711"]
    assert problem.category == "graffiti" and problem.status == "fixed" and problem.address == "Kennedybrücke, Bonn"
    assert problem.description == "Graffiti an der Brücke"
    assert all(query.get("jurisdiction_id") == "bonn.de" for _path, query in stub.calls)
    assert not any(path.endswith(".json") for path, _q in stub.calls[1:])  # JSON tried once, then XML only


def test_windows_of_at_most_ninety_days_walk_the_range_with_pages(app, runner, stub):
    city(stub)
    since = (utcnow() - timedelta(days=200)).strftime("%Y-%m-%d")
    result = run_import(runner, stub.url, "--since", since)
    assert result.exit_code == 0, result.output
    windows = stub.requests_calls()
    assert len(windows) == 3
    for query in windows:
        start = importer.parse_remote_datetime(query["start_date"])
        end = importer.parse_remote_datetime(query["end_date"])
        assert timedelta(0) < end - start <= timedelta(days=90)
        assert query["page"] == "1" and query["page_size"] == "1000"
    assert "5 created" in result.output  # the same records in every window import once


def test_pages_are_followed_and_a_server_that_ignores_page_is_not_looped(app, runner, stub, monkeypatch):
    monkeypatch.setattr(importer, "PAGE_SIZE", 2)
    records = json.loads((FIXTURES / "city_requests.json").read_text())[:5]

    def paged(query):
        page, size = int(query.get("page", 1)), int(query.get("page_size", 1000))
        return 200, "application/json", json.dumps(records[(page - 1) * size:page * size]).encode()

    stub.routes.update({"/open311/v2/services.json": "city_services.json", "/open311/v2/requests.json": paged})
    result = run_import(runner, stub.url)
    assert result.exit_code == 0 and "5 created" in result.output
    assert [q["page"] for q in stub.requests_calls()] == ["1", "2", "3"]

    stub.calls.clear()
    stub.routes["/open311/v2/requests.json"] = lambda q: (200, "application/json", json.dumps(records[:2]).encode())
    again = run_import(runner, stub.url)
    assert again.exit_code == 0 and "does not page" in again.output
    assert [q["page"] for q in stub.requests_calls() if "page" in q] == ["1", "2"]


def test_an_unreachable_server_is_a_clear_failure_that_writes_nothing(app, runner):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_import(runner, f"http://127.0.0.1:{port}/open311/v2")
    assert result.exit_code != 0
    assert f"Could not read http://127.0.0.1:{port}/open311/v2/services.json" in result.output
    assert "Nothing was written." in result.output
    assert count(app, Problem) == 0 and count(app, User) == 0


def test_a_failure_in_a_later_window_keeps_the_windows_before_it_whole(app, runner, stub):
    city(stub)
    body = (FIXTURES / "city_requests.json").read_bytes()
    answers = iter([(200, "application/json", body), (503, "text/plain", b"maintenance")])
    stub.routes["/open311/v2/requests.json"] = lambda q: next(answers, (503, "text/plain", b"down"))
    since = (utcnow() - timedelta(days=200)).strftime("%Y-%m-%d")
    result = run_import(runner, stub.url, "--since", since)
    assert result.exit_code != 0
    assert "HTTP 503" in result.output and "Kept what was committed before it: 5 created" in result.output
    assert count(app, Open311Imported) == 5
    stub.routes["/open311/v2/requests.json"] = "city_requests.json"
    again = run_import(runner, stub.url, "--since", since)
    assert again.exit_code == 0 and "0 created" in again.output and count(app, Problem) == 5


def test_a_bad_since_is_refused(app, runner, stub):
    result = run_import(runner, city(stub).url, "--since", "last tuesday")
    assert result.exit_code != 0 and "--since" in result.output


def test_unresolved_problems_older_than_the_range_are_refreshed_by_id(app, runner, stub):
    assert run_import(runner, city(stub).url).exit_code == 0
    closed = json.loads((FIXTURES / "city_requests.json").read_text())[0]
    closed.update(status="closed", status_notes="Pothole fixed 2026-11-27")

    def by_id(query):
        if "service_request_id" in query:
            wanted = query["service_request_id"].split(",")
            assert sorted(wanted) == ["101", "104", "105"]  # the unresolved ones; 103 and SR26 are closed
            return 200, "application/json", json.dumps([closed]).encode()
        return 200, "application/json", b"[]"

    stub.routes["/open311/v2/requests.json"] = by_id
    result = run_import(runner, stub.url)
    assert result.exit_code == 0, result.output
    assert "1 updated" in result.output
    assert imported(app)["101"].status == "fixed"


# --- a second FixQuest instance as the source ----------------------------------------------

@pytest.fixture(scope="module")
def source_app(tmp_path_factory):
    """Another FixQuest on its own SQLite file, its Open311 server on a loopback port."""
    from werkzeug.serving import make_server

    other = create_app(app_config("sqlite:///" + str(tmp_path_factory.mktemp("source") / "source.db"), None))
    server = make_server("127.0.0.1", 0, other, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    other.config["SOURCE_URL"] = f"http://127.0.0.1:{server.server_port}/open311/v2"
    yield other
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def source(source_app):
    yield source_app
    wipe(source_app)


def seed(source_app) -> tuple[list[int], int]:
    """Three problems on the source; their ids and an organiser's id there."""
    with source_app.app_context():
        reporter, organiser = make_user(), make_organiser()
        ids = [make_problem(reporter).id,
               make_problem(reporter, title="Graffiti on the library", category="graffiti", lat=51.46, lon=-2.6,
                            description="Spray paint across the door.").id,
               make_problem(reporter, title="Bins overflowing", category="litter", lat=51.44, lon=-2.57,
                            address=None).id]
        organiser_id = organiser.id
        db.session.remove()
    return ids, organiser_id


def test_importing_a_fixquest_server_twice_makes_the_same_problems_once(app, runner, source):
    source_ids, _organiser = seed(source)
    url = source.config["SOURCE_URL"]
    first = run_import(runner, url)
    assert first.exit_code == 0, first.output
    assert "3 created, 0 updated, 0 unchanged, 0 skipped" in first.output
    second = run_import(runner, url)
    assert second.exit_code == 0, second.output
    assert "0 created, 0 updated, 3 unchanged, 0 skipped" in second.output
    problems = imported(app)
    assert sorted(problems) == sorted(str(i) for i in source_ids)
    assert count(app, Problem) == 3
    graffiti = problems[str(source_ids[1])]
    assert (graffiti.title, graffiti.category, graffiti.description) == (
        "Spray paint across the door.", "graffiti", "Spray paint across the door.")
    with app.app_context():
        assert set(db.session.scalars(select(Open311Imported.source))) == {url}


def test_a_status_changed_on_the_source_arrives_with_history_and_followers_hear(app, runner, source):
    source_ids, organiser_id = seed(source)
    url = source.config["SOURCE_URL"]
    assert run_import(runner, url).exit_code == 0
    here = imported(app)[str(source_ids[0])]
    with app.app_context():
        follower = make_user()
        subscribe(db.session, actor=follower, problem=db.session.get(Problem, here.id))
        db.session.commit()
        follower_id = follower.id
    with source.app_context():
        challenges.change_status(db.session, actor=db.session.get(User, organiser_id),
                                 problem=db.session.get(Problem, source_ids[0]), status="fixed", note="Filled in.")
        db.session.commit()
    result = run_import(runner, url)
    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 2 unchanged" in result.output
    with app.app_context():
        problem = db.session.get(Problem, here.id)
        assert problem.status == "fixed"
        entry = db.session.scalar(select(ProblemUpdate).where(ProblemUpdate.problem_id == here.id,
                                                              ProblemUpdate.kind == "status"))
        assert (entry.old_status, entry.new_status) == ("open", "fixed")
        assert entry.author_id == problem.reporter_id  # the source's system user
        assert "Filled in." in entry.body  # the source's update, through servicerequestupdates
        drain(app)
        told = db.session.scalars(select(Notification.update_id).where(Notification.user_id == follower_id)).all()
        assert entry.id in told
    third = run_import(runner, url)
    assert "0 created, 0 updated, 3 unchanged" in third.output
