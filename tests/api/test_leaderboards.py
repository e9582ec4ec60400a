"""GET /api/v1/leaderboards/<board>."""
from __future__ import annotations

from tests.api import error_of
from tests.factories import approve, make_claim, make_organiser, make_quest, make_team, make_user


def test_boards_rank_by_points_with_public_names(client):
    organiser = make_organiser()
    alice, bob = make_user(name="Alice"), make_user(name="Bob")
    team = make_team(alice, name="Litter Pickers")
    approve(organiser, make_claim(alice, make_quest(organiser, points=30, mode="team"), team=team, submit=True))
    approve(organiser, make_claim(bob, make_quest(organiser, points=80), submit=True))

    participants = client.get("/api/v1/leaderboards/participants").get_json()
    assert participants["entries"][:2] == [{"rank": 1, "name": "Bob", "points": 80},
                                           {"rank": 2, "name": "Alice", "points": 30}]
    assert participants["entries"][2] == {"rank": 3, "name": organiser.display_name, "points": 2}  # two reviews
    teams = client.get("/api/v1/leaderboards/teams").get_json()
    assert teams == {"entries": [{"rank": 1, "name": "Litter Pickers", "points": 30}]}
    assert alice.email not in str(participants) and bob.email not in str(participants)


def test_limit_and_offset_page_through_a_board(client):
    organiser = make_organiser()
    for points in (10, 20, 30):
        approve(organiser, make_claim(make_user(), make_quest(organiser, points=points), submit=True))
    entries = client.get("/api/v1/leaderboards/participants?limit=1&offset=1").get_json()["entries"]
    assert [(e["rank"], e["points"]) for e in entries] == [(2, 20)]


def test_bad_limit_or_offset_is_422_naming_each(client):
    response = client.get("/api/v1/leaderboards/teams?limit=101&offset=-1")
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"limit", "offset"}


def test_unknown_board_is_404(client):
    response = client.get("/api/v1/leaderboards/schools")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
