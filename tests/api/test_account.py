"""Your account through the API: listing and revoking your tokens, what you follow (list,
delivery, stop) and following an area or a category, with their refusals. Someone else's
token or subscription is 404, as on the pages."""
from __future__ import annotations

from sqlalchemy import select

from accounts.models import ApiToken
from accounts.services import issue_token
from challenges import tracker
from challenges.models import Subscription
from extensions import db
from tests.api import error_of
from tests.factories import make_problem, make_user


def bearer(user, *, scope: str = "write", name: str = "tests") -> dict[str, str]:
    token = issue_token(db.session, user=user, name=name, scope=scope)
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def subscriptions_of(user) -> list[Subscription]:
    db.session.expire_all()
    return list(db.session.scalars(select(Subscription).where(Subscription.user_id == user.id)
                                   .order_by(Subscription.id)))


# --- tokens ----------------------------------------------------------------------------------

def test_you_see_your_tokens_names_and_dates_but_never_the_tokens(client):
    me = make_user()
    headers = bearer(me, name="Phone app")
    bearer(me, scope="read", name="Dashboard")
    bearer(make_user(), name="Someone else's")
    response = client.get("/api/v1/tokens", headers=headers)
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [(t["name"], t["scope"]) for t in items] == [("Dashboard", "read"), ("Phone app", "write")]
    assert items[1]["last_used_at"] is not None and items[0]["last_used_at"] is None  # this call used it
    assert headers["Authorization"].removeprefix("Bearer ") not in response.get_data(as_text=True)
    assert "token_hash" not in response.get_data(as_text=True)


def test_revoking_a_token_stops_it_at_once_and_keeps_it_listed(client):
    me = make_user()
    headers, doomed = bearer(me), bearer(me, name="Old laptop")
    doomed_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "Old laptop"))
    assert client.get("/api/v1/me", headers=doomed).status_code == 200
    response = client.delete(f"/api/v1/tokens/{doomed_id}", headers=headers)
    assert response.status_code == 200 and response.get_json()["revoked_at"] is not None
    assert client.get("/api/v1/me", headers=doomed).status_code == 401
    again = client.delete(f"/api/v1/tokens/{doomed_id}", headers=headers)  # changes nothing
    assert again.status_code == 200 and again.get_json()["revoked_at"] == response.get_json()["revoked_at"]
    listed = client.get("/api/v1/tokens", headers=headers).get_json()["items"]
    assert [t["name"] for t in listed] == ["tests", "Old laptop"]  # live first


def test_someone_elses_token_is_404_and_stays_live(client):
    other = make_user()
    their_headers = bearer(other, name="Theirs")
    theirs = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "Theirs"))
    response = client.delete(f"/api/v1/tokens/{theirs}", headers=bearer(make_user()))
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert client.get("/api/v1/me", headers=their_headers).status_code == 200
    assert client.delete("/api/v1/tokens/999999", headers=bearer(make_user())).status_code == 404


def test_token_routes_need_a_token_and_revoking_a_write_token(client):
    me = make_user()
    reader = bearer(me, scope="read", name="Reader")
    reader_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "Reader"))
    assert client.get("/api/v1/tokens").status_code == 401
    assert client.delete(f"/api/v1/tokens/{reader_id}").status_code == 401
    assert client.get("/api/v1/tokens", headers=reader).status_code == 200
    refused = client.delete(f"/api/v1/tokens/{reader_id}", headers=reader)
    assert refused.status_code == 403 and error_of(refused)["code"] == "insufficient_scope"
    assert client.get("/api/v1/tokens", headers=reader).status_code == 200  # still live
    assert client.get("/api/v1/tokens?page_size=0", headers=reader).status_code == 422


# --- what you follow -------------------------------------------------------------------------

def test_you_list_what_you_follow_as_the_settings_page_does(client):
    me, other = make_user(), make_user()
    problem = make_problem(make_user(), title="Leaning lamp post")
    tracker.subscribe(db.session, actor=me, problem=problem, delivery="digest")
    tracker.subscribe_area(db.session, actor=me, lat=51.45, lon=-2.59, radius_m=400)
    tracker.subscribe_area(db.session, actor=me, bbox=(-2.62, 51.44, -2.56, 51.47), delivery="in_app")
    tracker.subscribe_category(db.session, actor=me, category="graffiti", categories=("graffiti",))
    tracker.subscribe_category(db.session, actor=other, category="litter", categories=("litter",))
    db.session.commit()
    body = client.get("/api/v1/me/subscriptions", headers=bearer(me, scope="read")).get_json()
    assert body["total"] == 4
    by_kind = {(s["kind"], (s["area"] or {}).get("kind")): s for s in body["items"]}
    assert by_kind[("problem", None)]["problem_id"] == problem.id
    assert by_kind[("problem", None)]["delivery"] == "digest"
    assert "Leaning lamp post" in by_kind[("problem", None)]["description"]
    assert by_kind[("area", "circle")]["area"] == {"kind": "circle", "lat": 51.45, "lon": -2.59, "radius_m": 400}
    assert by_kind[("area", "bbox")]["area"]["bbox"] == [-2.62, 51.44, -2.56, 51.47]
    assert by_kind[("category", None)]["category"] == "graffiti"
    assert "litter" not in str(body)
    one = client.get(by_kind[("category", None)]["url"], headers=bearer(me, scope="read"))
    assert one.status_code == 200 and one.get_json()["id"] == by_kind[("category", None)]["id"]


def test_changing_delivery_and_stopping_a_subscription(client):
    me = make_user()
    problem = make_problem(make_user())
    subscription = tracker.subscribe(db.session, actor=me, problem=problem)
    db.session.commit()
    path = f"/api/v1/me/subscriptions/{subscription.id}"
    headers = bearer(me)
    followers = client.get(f"/api/v1/problems/{problem.id}").get_json()["subscribers_count"]
    changed = client.patch(path, json={"delivery": "digest"}, headers=headers)
    assert changed.status_code == 200 and changed.get_json()["delivery"] == "digest"
    assert subscriptions_of(me)[0].delivery == "digest"
    bad = client.patch(path, json={"delivery": "pigeon"}, headers=headers)
    assert bad.status_code == 422 and list(error_of(bad)["fields"]) == ["delivery"]
    missing = client.patch(path, json={}, headers=headers)
    assert missing.status_code == 422
    stopped = client.delete(path, headers=headers)
    assert stopped.status_code == 200 and stopped.get_json()["following"] is False
    assert subscriptions_of(me) == []
    assert client.get(f"/api/v1/problems/{problem.id}").get_json()["subscribers_count"] == followers - 1
    assert client.delete(path, headers=headers).status_code == 404


def test_someone_elses_subscription_is_404_and_unchanged(client):
    owner = make_user()
    subscription = tracker.subscribe_category(db.session, actor=owner, category="litter", categories=("litter",))
    db.session.commit()
    headers = bearer(make_user())
    path = f"/api/v1/me/subscriptions/{subscription.id}"
    assert client.get(path, headers=headers).status_code == 404
    assert client.patch(path, json={"delivery": "in_app"}, headers=headers).status_code == 404
    assert client.delete(path, headers=headers).status_code == 404
    assert [(s.id, s.delivery) for s in subscriptions_of(owner)] == [(subscription.id, "immediate")]


def test_subscription_routes_need_a_token_and_changes_a_write_token(client):
    me = make_user()
    subscription = tracker.subscribe_category(db.session, actor=me, category="litter", categories=("litter",))
    db.session.commit()
    path = f"/api/v1/me/subscriptions/{subscription.id}"
    assert client.get("/api/v1/me/subscriptions").status_code == 401
    assert client.patch(path, json={"delivery": "digest"}).status_code == 401
    assert client.post("/api/v1/me/follows", json={"kind": "category", "category": "litter"}).status_code == 401
    reader = bearer(me, scope="read")
    for response in (client.patch(path, json={"delivery": "digest"}, headers=reader),
                     client.delete(path, headers=reader),
                     client.post("/api/v1/me/follows", json={"kind": "category", "category": "graffiti"},
                                 headers=reader)):
        assert response.status_code == 403 and error_of(response)["code"] == "insufficient_scope"
    assert [(s.category, s.delivery) for s in subscriptions_of(me)] == [("litter", "immediate")]


def test_following_an_area_or_a_category(client):
    me = make_user()
    headers = bearer(me)
    circle = client.post("/api/v1/me/follows", json={"kind": "area", "lat": 51.45, "lon": -2.59, "radius_m": 300,
                                                     "delivery": "digest"}, headers=headers)
    assert circle.status_code == 201
    assert circle.get_json()["area"] == {"kind": "circle", "lat": 51.45, "lon": -2.59, "radius_m": 300}
    assert circle.get_json()["delivery"] == "digest"
    assert client.get(circle.headers["Location"], headers=headers).get_json()["id"] == circle.get_json()["id"]
    ward = client.post("/api/v1/me/follows", json={"kind": "area", "bbox": [-2.62, 51.44, -2.56, 51.47]},
                       headers=headers)
    assert ward.status_code == 201 and ward.get_json()["delivery"] == "immediate"
    first = client.post("/api/v1/me/follows", json={"kind": "category", "category": "pothole"}, headers=headers)
    twice = client.post("/api/v1/me/follows", json={"kind": "category", "category": "pothole"}, headers=headers)
    assert first.get_json()["id"] == twice.get_json()["id"]  # one subscription, as on the page
    assert len(subscriptions_of(me)) == 3


def test_following_refusals(client):
    me = make_user()
    headers = bearer(me)

    def follow(body):
        return client.post("/api/v1/me/follows", json=body, headers=headers)

    assert set(error_of(follow({}))["fields"]) == {"kind"}
    assert set(error_of(follow({"kind": "town"}))["fields"]) == {"kind"}
    assert error_of(follow({"kind": "area", "lat": 95, "lon": 0, "radius_m": 100}))["fields"].keys() == {"lat"}
    assert "radius_m" in error_of(follow({"kind": "area", "lat": 51, "lon": 0, "radius_m": 0}))["fields"]
    assert "bbox" in error_of(follow({"kind": "area", "bbox": [1, 2, 3]}))["fields"]
    assert "bbox" in error_of(follow({"kind": "area", "bbox": [-2.5, 51.5, -2.6, 51.4]}))["fields"]  # corners swapped
    assert "category" in error_of(follow({"kind": "category", "category": "dragons"}))["fields"]
    assert "delivery" in error_of(follow({"kind": "category", "category": "pothole", "delivery": "fax"}))["fields"]
    assert follow({"kind": "area", "lat": 95, "lon": 0, "radius_m": 100}).status_code == 422
    assert subscriptions_of(me) == []
    child = make_user()
    child_headers = bearer(child)  # made before the account became a child's (children get no tokens)
    child.is_child = True
    db.session.commit()
    refused = client.post("/api/v1/me/follows", json={"kind": "category", "category": "pothole"},
                          headers=child_headers)
    assert refused.status_code == 403 and error_of(refused)["code"] == "child_account"
