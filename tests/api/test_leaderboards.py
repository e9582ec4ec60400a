"""GET /api/v1/leaderboards/<board> and /api/v1/leaderboards/<board>/around/<member_id>,
on whichever backend the run uses (SQL on SQLite, Redis on PostgreSQL)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from extensions import db
from scoring import ledger, windows
from scoring.leaderboards import set_hidden_from_boards
from scoring.models import LedgerEntry, Season
from tests.api import error_of
from tests.factories import approve, make_claim, make_organiser, make_quest, make_team, make_user
from timeutil import utcnow


def pay(key, amount, *, user=None, team=None):
    ledger.award(db.session, key=key, amount=amount, reason="test", user_id=user.id if user else None,
                 team_id=team.id if team else None)
    db.session.commit()


def backdate(app, key, when):
    db.session.execute(update(LedgerEntry).where(LedgerEntry.idempotency_key == key).values(created_at=when))
    db.session.commit()
    app.extensions["fixquest.leaderboard"].rebuild()


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
    assert teams == {"entries": [{"rank": 1, "name": "Litter Pickers", "points": 30}], "window": "all",
                     "next": None}
    assert alice.email not in str(participants) and bob.email not in str(participants)


def test_limit_and_offset_page_through_a_board(client):
    organiser = make_organiser()
    for points in (10, 20, 30):
        approve(organiser, make_claim(make_user(), make_quest(organiser, points=points), submit=True))
    entries = client.get("/api/v1/leaderboards/participants?limit=1&offset=1").get_json()["entries"]
    assert [(e["rank"], e["points"]) for e in entries] == [(2, 20)]


def test_next_links_walk_the_whole_board_and_end_with_null(client):
    for n in range(5):
        pay(f"p{n}", 10 * (n + 1), user=make_user())
    url, seen = "/api/v1/leaderboards/participants?window=week&limit=2", []
    while url:
        body = client.get(url).get_json()
        seen += [e["rank"] for e in body["entries"]]
        url = body["next"]
        assert url is None or ("window=week" in url and "limit=2" in url)
    assert seen == [1, 2, 3, 4, 5]


def test_bad_limit_or_offset_is_422_naming_each(client):
    response = client.get("/api/v1/leaderboards/teams?limit=101&offset=-1")
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"limit", "offset"}


def test_unknown_board_is_404(client):
    response = client.get("/api/v1/leaderboards/schools")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_the_week_window_leaves_out_last_weeks_points(app, client):
    old_hand, newcomer = make_user(name="Old Hand"), make_user(name="Newcomer")
    pay("old", 100, user=old_hand)
    pay("new", 20, user=newcomer)
    backdate(app, "old", utcnow() - timedelta(days=8))
    week = client.get("/api/v1/leaderboards/participants?window=week").get_json()
    assert week["entries"] == [{"rank": 1, "name": "Newcomer", "points": 20}]
    assert week["window"] == windows.week_containing(utcnow(), "Europe/London").key
    assert client.get("/api/v1/leaderboards/participants?window=month").get_json()["window"].startswith("month:")
    assert [e["name"] for e in client.get("/api/v1/leaderboards/participants?window=all").get_json()["entries"]] \
        == ["Old Hand", "Newcomer"]


def test_a_season_window_names_the_season_by_id(app, client):
    today = windows.local_date(utcnow(), "Europe/London")
    season = Season(name="Autumn", starts_on=today - timedelta(days=5), ends_on=today + timedelta(days=5))
    db.session.add(season)
    db.session.commit()
    inside, outside = make_user(name="Inside"), make_user(name="Outside")
    pay("in", 10, user=inside)
    pay("out", 50, user=outside)
    backdate(app, "out", utcnow() - timedelta(days=20))
    body = client.get(f"/api/v1/leaderboards/participants?window=season:{season.id}").get_json()
    assert body == {"entries": [{"rank": 1, "name": "Inside", "points": 10}], "window": f"season:{season.id}",
                    "next": None}


@pytest.mark.parametrize("window", ["fortnight", "season:", "season:0", "season:abc", "season:99999999999999999999",
                                    "season:999999999999999999", "season:2147483647", "season:404", "WEEK",
                                    "week "])
def test_an_unknown_window_is_422_naming_the_window(client, window):
    pay("1", 10, user=make_user())
    for url in (f"/api/v1/leaderboards/participants?window={window}",
                f"/api/v1/leaderboards/participants/around/1?window={window}"):
        response = client.get(url)
        assert response.status_code == 422, (url, response.get_data(as_text=True))
        assert list(error_of(response)["fields"]) == ["window"]


def test_team_id_ranks_the_members_of_one_team(client):
    captain, member, outsider = make_user(name="Captain"), make_user(name="Member"), make_user(name="Outsider")
    team = make_team(captain, members=(member,))
    pay("c", 10, user=captain)
    pay("m", 30, user=member)
    pay("o", 90, user=outsider)
    body = client.get(f"/api/v1/leaderboards/participants?team_id={team.id}&window=week").get_json()
    assert [(e["rank"], e["name"]) for e in body["entries"]] == [(1, "Member"), (2, "Captain")]
    around = client.get(f"/api/v1/leaderboards/participants/around/{captain.id}?team_id={team.id}").get_json()
    assert around["member"] == {"rank": 2, "name": "Captain", "points": 10}


@pytest.mark.parametrize("query", ["board=teams", "team_id=99999", "team_id=0", "team_id=x", "team_id=-1",
                                   "team_id=99999999999999999999"])
def test_a_bad_team_scope_is_422_naming_team_id(client, query):
    captain = make_user()
    team = make_team(captain)
    pay("c", 10, user=captain, team=team)
    board = "teams" if query == "board=teams" else "participants"
    param = f"team_id={team.id}" if query == "board=teams" else query
    response = client.get(f"/api/v1/leaderboards/{board}?{param}")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert list(error_of(response)["fields"]) == ["team_id"]


def test_around_gives_a_member_and_their_neighbours(client):
    players = [make_user(name=f"P{n}") for n in range(6)]
    for n, player in enumerate(players):
        pay(f"p{n}", 60 - 10 * n, user=player)
    body = client.get(f"/api/v1/leaderboards/participants/around/{players[3].id}?window=week").get_json()
    assert body["member"] == {"rank": 4, "name": "P3", "points": 30}
    assert [e["rank"] for e in body["entries"]] == [2, 3, 4, 5, 6]
    assert body["window"].startswith("week:")
    top = client.get(f"/api/v1/leaderboards/participants/around/{players[0].id}?span=1").get_json()
    assert [e["name"] for e in top["entries"]] == ["P0", "P1"]
    assert client.get(f"/api/v1/leaderboards/participants/around/{players[0].id}?span=11").status_code == 422


def test_around_is_404_for_hidden_members_and_members_without_points(client):
    shy, idle, other = make_user(), make_user(), make_user()
    pay("s", 10, user=shy)
    pay("o", 5, user=other)
    set_hidden_from_boards(db.session, actor=shy, hidden=True)
    db.session.commit()
    for member in (shy.id, idle.id, 2**62):
        response = client.get(f"/api/v1/leaderboards/participants/around/{member}")
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    assert [e["rank"] for e in client.get(f"/api/v1/leaderboards/participants/around/{other.id}")
            .get_json()["entries"]] == [1]
    assert shy.display_name not in client.get("/api/v1/leaderboards/participants").get_data(as_text=True)


def test_the_team_board_has_around_too(client):
    captain = make_user()
    team = make_team(captain, name="Canal Crew")
    pay("t", 10, user=captain, team=team)
    body = client.get(f"/api/v1/leaderboards/teams/around/{team.id}").get_json()
    assert body["member"] == {"rank": 1, "name": "Canal Crew", "points": 10}
