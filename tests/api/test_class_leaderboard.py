"""A school class's board through the API: its teacher sees the children ranked by name;
everyone else (another teacher, an outsider, no token) gets what an unknown class gets."""
from __future__ import annotations

from sqlalchemy import select

from accounts.models import User
from extensions import db
from tests.api import auth, error_of
from tests.factories import approve, make_claim, make_organiser, make_quest, make_user
from tests.test_classes import create_class


def test_the_teacher_sees_the_class_board_and_nobody_else_does(app, ctx, client):
    teacher = make_organiser()
    _, school_class, cards, _ = create_class(app, teacher, size=3)
    first, second = (db.session.scalar(select(User).where(User.display_name == card["name"])) for card in cards[:2])
    approve(teacher, make_claim(first, make_quest(teacher, points=40), submit=True))
    approve(teacher, make_claim(second, make_quest(teacher, points=20), submit=True))
    url = f"/api/v1/classes/{school_class.id}/leaderboard"
    body = client.get(f"{url}?limit=1", headers=auth(teacher)).get_json()
    assert body["entries"] == [{"rank": 1, "name": cards[0]["name"], "points": 40}]
    assert body["window"] == "all"
    rest = client.get(body["next"], headers=auth(teacher)).get_json()
    assert rest["entries"] == [{"rank": 2, "name": cards[1]["name"], "points": 20}] and rest["next"] is None
    assert len(client.get(f"{url}?window=week", headers=auth(teacher)).get_json()["entries"]) == 2
    for headers in (auth(make_user()), auth(make_organiser())):
        response = client.get(url, headers=headers)
        assert response.status_code == 404 and cards[0]["name"] not in response.get_data(as_text=True)
    assert error_of(client.get(url))["code"] == "not_authenticated"
    assert client.get("/api/v1/classes/999/leaderboard", headers=auth(teacher)).status_code == 404
    bad = client.get(f"{url}?window=season:1", headers=auth(teacher))
    assert bad.status_code == 422 and list(error_of(bad)["fields"]) == ["window"]
