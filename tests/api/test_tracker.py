"""The report-with-duplicate flow through the API: offered, confirmed, followed, merged."""
from __future__ import annotations

from challenges import tracker
from extensions import db
from tests.api import auth, error_of
from tests.factories import make_organiser, make_problem, make_user

SPOT = {"title": "Broken swing in Castle Park", "description": "Chain snapped.", "category": "other",
        "lat": 51.45590, "lon": -2.58550}


def test_second_reporter_is_offered_the_first_and_confirms_it(client):
    first = make_problem(make_user(), **SPOT)
    second = make_user()
    created = client.post("/api/v1/problems", json={**SPOT, "lat": 51.45592}, headers=auth(second)).get_json()
    assert [c["id"] for c in created["nearby"]] == [first.id]

    headers = auth(make_user())
    response = client.post(f"/api/v1/problems/{first.id}/confirm", headers=headers)
    assert response.status_code == 200
    assert (response.get_json()["confirmations_count"], response.get_json()["subscribers_count"]) == (1, 2)
    again = client.post(f"/api/v1/problems/{first.id}/confirm", headers=headers)
    assert again.status_code == 409 and error_of(again)["code"] == "already_confirmed"


def test_reporter_cannot_confirm_own_problem_and_strangers_need_a_token(client):
    reporter = make_user()
    problem = make_problem(reporter, **SPOT)
    own = client.post(f"/api/v1/problems/{problem.id}/confirm", headers=auth(reporter))
    assert own.status_code == 409 and error_of(own)["code"] == "own_problem"
    assert client.post(f"/api/v1/problems/{problem.id}/confirm").status_code == 401
    assert client.post("/api/v1/problems/987654/confirm", headers=auth(reporter)).status_code == 404


def test_follow_and_unfollow(client):
    problem, fan = make_problem(make_user(), **SPOT), make_user()
    headers = auth(fan)
    followed = client.put(f"/api/v1/problems/{problem.id}/subscription", json={"delivery": "digest"}, headers=headers)
    assert followed.status_code == 200 and followed.get_json() == {"problem_id": problem.id, "delivery": "digest",
                                                                   "following": True}
    assert client.get(f"/api/v1/problems/{problem.id}").get_json()["subscribers_count"] == 2
    bad = client.put(f"/api/v1/problems/{problem.id}/subscription", json={"delivery": "pigeon"}, headers=headers)
    assert bad.status_code == 422 and "delivery" in error_of(bad)["fields"]
    assert client.delete(f"/api/v1/problems/{problem.id}/subscription", headers=headers).get_json()["following"] is False
    assert client.get(f"/api/v1/problems/{problem.id}").get_json()["subscribers_count"] == 1


def test_merged_problem_id_points_to_the_survivor_and_leaves_the_list(client, ctx):
    user = make_user()
    dup, keep = make_problem(user, **SPOT), make_problem(user, **SPOT)
    tracker.merge(db.session, actor=make_organiser(), duplicate=dup, into=keep)
    db.session.commit()
    response = client.get(f"/api/v1/problems/{dup.id}")
    assert response.status_code == 301 and response.headers["Location"].endswith(f"/api/v1/problems/{keep.id}")
    assert [p["id"] for p in client.get("/api/v1/problems").get_json()["items"]] == [keep.id]
