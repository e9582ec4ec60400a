"""A problem's public history through the API: reading it, comments and status changes
(organisers, as on the page), and merging duplicates."""
from __future__ import annotations

from challenges.models import Problem
from extensions import db
from tests.api import auth, error_of
from tests.childsafe.helpers import make_child
from tests.factories import make_organiser, make_problem, make_user


def test_the_history_lists_the_report_then_updates_oldest_first_without_emails(client):
    reporter, organiser = make_user(name="Rita Reporter"), make_organiser(name="Oscar Organiser")
    problem = make_problem(reporter)
    headers = auth(organiser)
    assert client.post(f"/api/v1/problems/{problem.id}/updates", json={"body": "Crew booked."},
                       headers=headers).status_code == 201
    client.post(f"/api/v1/problems/{problem.id}/updates", json={"status": "in_progress", "body": "On it."},
                headers=headers)
    response = client.get(f"/api/v1/problems/{problem.id}/updates")
    assert response.status_code == 200
    body = response.get_json()
    assert [(u["kind"], u["author"]) for u in body["items"]] == [
        ("reported", "Rita Reporter"), ("comment", "Oscar Organiser"), ("status", "Oscar Organiser")]
    assert body["items"][2]["old_status"] == "open" and body["items"][2]["new_status"] == "in_progress"
    assert body["items"][2]["body"] == "On it." and body["total"] == 3 and body["next"] is None
    assert reporter.email not in response.get_data(as_text=True)


def test_the_history_paginates_with_a_next_link(client):
    problem = make_problem(make_user())
    headers = auth(make_organiser())
    for n in range(3):
        client.post(f"/api/v1/problems/{problem.id}/updates", json={"body": f"Note {n}"}, headers=headers)
    first = client.get(f"/api/v1/problems/{problem.id}/updates?page_size=2").get_json()
    assert len(first["items"]) == 2 and first["total"] == 4
    second = client.get(first["next"]).get_json()
    assert [u["body"] for u in second["items"]] == ["Note 1", "Note 2"] and second["next"] is None


def test_the_history_of_a_merged_problem_redirects_to_the_survivors(client):
    organiser = make_organiser()
    duplicate, survivor = make_problem(make_user()), make_problem(make_user())
    client.post(f"/api/v1/problems/{duplicate.id}/merge", json={"into_id": survivor.id}, headers=auth(organiser))
    response = client.get(f"/api/v1/problems/{duplicate.id}/updates")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/api/v1/problems/{survivor.id}/updates")


def test_history_of_an_unknown_problem_is_404_and_bad_paging_422(client):
    assert error_of(client.get("/api/v1/problems/999/updates"))["code"] == "not_found"
    problem = make_problem(make_user())
    response = client.get(f"/api/v1/problems/{problem.id}/updates?page_size=101")
    assert response.status_code == 422 and list(error_of(response)["fields"]) == ["page_size"]


def test_a_childs_name_never_appears_in_a_history(client):
    child = make_child("Tilly Secretchild")
    problem = make_problem(make_user())
    from challenges.models import ProblemUpdate
    db.session.add(ProblemUpdate(problem_id=problem.id, author_id=child.id, kind="fix", body="We cleaned it."))
    db.session.commit()
    response = client.get(f"/api/v1/problems/{problem.id}/updates")
    assert "Secretchild" not in response.get_data(as_text=True)
    assert response.get_json()["items"][-1]["author"] is None


def test_a_participant_may_not_comment_or_change_status(client):
    problem = make_problem(make_user())
    headers = auth(make_user())
    for body in ({"body": "Hello"}, {"status": "fixed"}):
        response = client.post(f"/api/v1/problems/{problem.id}/updates", json=body, headers=headers)
        assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert len(client.get(f"/api/v1/problems/{problem.id}/updates").get_json()["items"]) == 1


def test_posting_an_update_needs_a_write_token(client):
    problem = make_problem(make_user())
    assert client.post(f"/api/v1/problems/{problem.id}/updates", json={"body": "x"}).status_code == 401
    organiser = make_organiser()
    from accounts.services import issue_token
    token = issue_token(db.session, user=organiser, name="read", scope="read")
    db.session.commit()
    response = client.post(f"/api/v1/problems/{problem.id}/updates", json={"body": "x"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403 and error_of(response)["code"] == "insufficient_scope"


def test_update_validation_errors_name_the_field(client):
    problem = make_problem(make_user())
    headers = auth(make_organiser())
    cases = [({"body": "   "}, "body"), ({"body": 5}, "body"), ({"status": "sorted"}, "status"),
             ({"status": "open"}, "status"), ({"status": "fixed", "body": "x" * 5000}, "note")]
    for body, field in cases:
        response = client.post(f"/api/v1/problems/{problem.id}/updates", json=body, headers=headers)
        assert response.status_code == 422, body
        assert field in error_of(response)["fields"], body
    malformed = client.post(f"/api/v1/problems/{problem.id}/updates", data="{", headers={
        **headers, "Content-Type": "application/json"})
    assert malformed.status_code == 400 and error_of(malformed)["code"] == "malformed_body"
    assert client.post("/api/v1/problems/999/updates", json={"body": "x"}, headers=headers).status_code == 404


def test_a_status_change_on_a_merged_problem_is_409(client):
    organiser = make_organiser()
    headers = auth(organiser)
    duplicate, survivor = make_problem(make_user()), make_problem(make_user())
    client.post(f"/api/v1/problems/{duplicate.id}/merge", json={"into_id": survivor.id}, headers=headers)
    response = client.post(f"/api/v1/problems/{duplicate.id}/updates", json={"status": "fixed"}, headers=headers)
    assert response.status_code == 409


def test_an_organiser_merges_a_duplicate_and_gets_the_survivor(client):
    first, second = make_user(), make_user()
    duplicate, survivor = make_problem(first), make_problem(second)
    response = client.post(f"/api/v1/problems/{duplicate.id}/merge", json={"into_id": survivor.id},
                           headers=auth(make_organiser()))
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == survivor.id and body["confirmations_count"] == 1  # the duplicate's reporter
    assert db.session.get(Problem, duplicate.id).merged_into_id == survivor.id
    assert client.get(f"/api/v1/problems/{duplicate.id}").status_code == 301


def test_merge_refusals(client):
    duplicate, survivor = make_problem(make_user()), make_problem(make_user())
    url = f"/api/v1/problems/{duplicate.id}/merge"
    participant = client.post(url, json={"into_id": survivor.id}, headers=auth(make_user()))
    assert participant.status_code == 403
    headers = auth(make_organiser())
    assert client.post(url, json={"into_id": survivor.id}).status_code == 401
    missing = client.post(url, json={}, headers=headers)
    assert missing.status_code == 422 and list(error_of(missing)["fields"]) == ["into_id"]
    unknown = client.post(url, json={"into_id": 99999}, headers=headers)
    assert unknown.status_code == 422 and list(error_of(unknown)["fields"]) == ["into_id"]
    itself = client.post(url, json={"into_id": duplicate.id}, headers=headers)
    assert itself.status_code == 409 and error_of(itself)["code"] == "merge_cycle"
    assert client.post(url, json={"into_id": survivor.id}, headers=headers).status_code == 200
    again = client.post(url, json={"into_id": survivor.id}, headers=headers)
    assert again.status_code == 409
    assert client.post("/api/v1/problems/999/merge", json={"into_id": survivor.id}, headers=headers).status_code == 404


def test_history_entries_carry_their_photos(client):
    from challenges.models import Photo, ProblemUpdate
    organiser = make_organiser()
    problem = make_problem(make_user())
    client.post(f"/api/v1/problems/{problem.id}/updates", json={"body": "Fixed, see photo."}, headers=auth(organiser))
    entry = db.session.scalar(db.select(ProblemUpdate).where(ProblemUpdate.kind == "comment"))
    db.session.add(Photo(storage_key="a" * 32, problem_id=problem.id, update_id=entry.id, uploader_id=organiser.id,
                         width=10, height=10))
    db.session.commit()
    items = client.get(f"/api/v1/problems/{problem.id}/updates").get_json()["items"]
    assert items[0]["photos"] == []
    assert items[1]["photos"] == [{"url": f"/photos/{'a' * 32}.jpg", "thumbnail": f"/photos/{'a' * 32}/thumb.jpg"}]
