"""GET requests, GET request, servicerequestupdates: fields, filters, windows, merges, privacy."""
from __future__ import annotations

from datetime import timedelta

import pytest

from challenges import services as challenges
from challenges import tracker
from extensions import db
from tests.factories import make_organiser, make_problem, make_user
from tests.open311.conftest import BASE, check_json, check_xml
from timeutil import utcnow

REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]


def ids(response) -> list[str]:
    return [r["service_request_id"] for r in check_json(response, "requests")]


@pytest.fixture
def town(ctx):
    """Problems of two kinds and ages, one fixed."""
    person, organiser = make_user(), make_organiser()
    now = utcnow()
    new = make_problem(person, title="New pothole", lat=51.45, lon=-2.58, now=now - timedelta(days=1))
    litter = make_problem(person, title="Bags of litter", category="litter", lat=51.46, lon=-2.59,
                          now=now - timedelta(days=10))
    fixed = make_problem(person, title="Fixed pothole", lat=51.47, lon=-2.60, now=now - timedelta(days=20))
    challenges.change_status(db.session, actor=organiser, problem=fixed, status="fixed", note="Filled today.")
    old = make_problem(person, title="Old pothole", lat=51.48, lon=-2.61, now=now - timedelta(days=120))
    db.session.commit()
    return {"new": new.id, "litter": litter.id, "fixed": fixed.id, "old": old.id, "organiser": organiser}


def test_requests_have_exactly_the_spec_fields_in_both_formats(client, town):
    body = check_json(client.get(f"{BASE}/requests.json"), "requests")
    assert all(list(r) == REQUEST_FIELDS for r in body)
    fixed = next(r for r in body if r["service_request_id"] == str(town["fixed"]))
    assert (fixed["status"], fixed["status_notes"], fixed["service_code"]) == ("closed", "Closed: fixed.", "pothole")
    assert fixed["requested_datetime"].endswith("Z")
    tree = check_xml(client.get(f"{BASE}/requests.xml"), "service_requests", "request")
    assert [child.tag for child in tree.find("request")] == REQUEST_FIELDS


def test_the_default_window_is_the_last_90_days_newest_first(client, town):
    assert ids(client.get(f"{BASE}/requests.json")) == [str(town[k]) for k in ("new", "litter", "fixed")]


def test_filters_by_status_service_and_dates(client, town):
    assert ids(client.get(f"{BASE}/requests.json?status=closed")) == [str(town["fixed"])]
    assert ids(client.get(f"{BASE}/requests.json?status=open,closed")) == [
        str(town[k]) for k in ("new", "litter", "fixed")]
    assert ids(client.get(f"{BASE}/requests.json?service_code=litter")) == [str(town["litter"])]
    start = (utcnow() - timedelta(days=150)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    end = (utcnow() - timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(client.get(f"{BASE}/requests.json", query_string={"start_date": start, "end_date": end})) == [
        str(town["old"])]
    assert ids(client.get(f"{BASE}/requests.json", query_string={"end_date": end})) == [str(town["old"])]


@pytest.mark.parametrize("query", [
    {"status": "pending"}, {"start_date": "yesterday"}, {"page_size": "1001"}, {"page": "0"},
    {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
])
def test_bad_filters_are_a_400_error_list(client, town, query):
    response = client.get(f"{BASE}/requests.json", query_string=query)
    assert response.status_code == 400
    check_json(response, "errors")


def test_service_request_id_list_overrides_the_other_filters(client, town):
    got = ids(client.get(f"{BASE}/requests.json?service_request_id={town['old']},{town['new']},999,x&status=closed"))
    assert got == [str(town["new"]), str(town["old"])]


def test_pages(client, town):
    assert ids(client.get(f"{BASE}/requests.json?page_size=2&page=2")) == [str(town["fixed"])]


def test_one_request_is_still_an_array(client, town):
    body = check_json(client.get(f"{BASE}/requests/{town['new']}.json"), "requests")
    assert len(body) == 1 and body[0]["service_request_id"] == str(town["new"])
    check_xml(client.get(f"{BASE}/requests/{town['new']}.xml"), "service_requests", "request")


@pytest.mark.parametrize("ident", ["999999", "abc", "9" * 30])
def test_unknown_request_is_404(client, town, ident):
    response = client.get(f"{BASE}/requests/{ident}.json")
    assert response.status_code == 404
    check_json(response, "errors")


def test_an_empty_list_is_an_empty_array_and_an_empty_root(client, ctx):
    assert check_json(client.get(f"{BASE}/requests.json"), "requests") == []
    assert list(check_xml(client.get(f"{BASE}/requests.xml"), "service_requests")) == []


def test_merged_problems_are_left_out_and_point_to_the_survivor(client, town):
    tracker.merge(db.session, actor=town["organiser"], duplicate=db.session.get(challenges.Problem, town["litter"]),
                  into=db.session.get(challenges.Problem, town["new"]))
    db.session.commit()
    assert str(town["litter"]) not in ids(client.get(f"{BASE}/requests.json"))
    assert ids(client.get(f"{BASE}/requests/{town['litter']}.json")) == [str(town["new"])]
    assert ids(client.get(f"{BASE}/requests.json?service_request_id={town['litter']},{town['new']}")) == [
        str(town["new"])]
    updates = check_json(client.get(f"{BASE}/servicerequestupdates.json"), "request_updates")
    assert {"update_id": f"merged-{town['litter']}", "status": "duplicate"}.items() <= next(
        u for u in updates if u["service_request_id"] == str(town["litter"])).items()


def test_extensions_add_finer_states(client, town):
    body = check_json(client.get(f"{BASE}/requests/{town['fixed']}.json?extensions=true"), "requests")
    assert body[0]["detailed_status"] == "FIXED"
    assert body[0]["extended_attributes"] == {"title": "Fixed pothole", "detailed_status": "fixed",
                                              "confirmations_count": 0}
    tree = check_xml(client.get(f"{BASE}/requests/{town['fixed']}.xml?extensions=true"), "service_requests")
    assert tree.find("request/extended_attributes/detailed_status").text == "fixed"


def test_service_request_updates_list_status_changes_with_fixmystreet_names(client, town):
    body = check_json(client.get(f"{BASE}/servicerequestupdates.json"), "request_updates")
    assert [(u["service_request_id"], u["status"], u["description"]) for u in body] == [
        (str(town["fixed"]), "fixed", "Filled today.")]
    tree = check_xml(client.get(f"{BASE}/servicerequestupdates.xml"), "service_request_updates", "request_update")
    assert [c.tag for c in tree.find("request_update")] == [
        "update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"]
    old = {"start_date": "2020-01-01T00:00:00Z", "end_date": "2020-02-01T00:00:00Z"}
    assert check_json(client.get(f"{BASE}/servicerequestupdates.json", query_string=old), "request_updates") == []


def test_nothing_a_client_posts_about_a_person_is_ever_shown(post, client, town):
    secrets = {"email": "alice.private@example.org", "first_name": "Alicia", "last_name": "Zyxwvut",
               "phone": "+44 7700 900123", "device_id": "device-8812", "account_id": "acct-5521"}
    created = check_json(post(**secrets), "post_response")[0]["service_request_id"]
    problem = db.session.get(challenges.Problem, int(created))
    challenges.change_status(db.session, actor=town["organiser"], problem=problem, status="in_progress")
    db.session.commit()
    pages = [f"{BASE}/requests.{f}{q}" for f in ("json", "xml") for q in ("", "?extensions=true")]
    pages += [f"{BASE}/requests/{created}.{f}?extensions=true" for f in ("json", "xml")]
    pages += [f"{BASE}/servicerequestupdates.{f}" for f in ("json", "xml")]
    pages += ["/api/v1/problems", f"/api/v1/problems/{created}", f"/problems/{created}", "/feeds/problems.atom"]
    for page in pages:
        response = client.get(page, follow_redirects=True)
        assert response.status_code == 200, page
        text = response.get_data(as_text=True)
        assert created in text, page
        for value in secrets.values():
            assert value not in text, (page, value)
        assert "open311.invalid" not in text, page
