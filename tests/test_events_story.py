"""The jam from the issue: four teams register, claims are approved while it runs (the board
changes and is published live), the board freezes (the public sees it frozen, organisers
live), and at the end the results are revealed and the badges awarded once."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

import live
from events import services
from scoring.models import BadgeAward
from extensions import db
from tests.events_helpers import add_quests, enter, make_event, set_times, team_of
from tests.factories import approve, make_claim, make_organiser, make_user
from timeutil import utcnow


def _names(board):
    return [(r.name, r.points) for r in board.rows]


def _solve(organiser, captain, quest, team):
    return approve(organiser, make_claim(captain, quest, team=team, submit=True))


def test_a_jam_with_four_teams_runs_freezes_and_reveals_its_results(app, client, login):
    organiser = make_organiser(name="Host")
    event = make_event(organiser, freeze_at=utcnow() + timedelta(hours=1))
    q1, q2, q3 = add_quests(organiser, event, 3)
    teams = [team_of(2, name) for name in ("Ants", "Bees", "Crows", "Doves")]
    for team, captain in teams:
        enter(event, team, captain)
    (ants, ants_cap), (bees, bees_cap), (crows, crows_cap), (doves, doves_cap) = teams
    hub = live.hub()
    public_topic, organiser_topic = services.public_topic(event.id), services.organiser_topic(event.id)
    before = hub.last_id(public_topic)

    # Running: each approval changes the board and is published.
    _solve(organiser, bees_cap, q1, bees)
    _solve(organiser, ants_cap, q1, ants)
    _solve(organiser, ants_cap, q2, ants)
    board = services.scoreboard(db.session, event)
    assert _names(board)[:2] == [("Ants", 200), ("Bees", 100)]
    assert {r.name for r in board.rows[2:]} == {"Crows", "Doves"} and [r.rank for r in board.rows] == [1, 2, 3, 3]
    assert board.rows[0].solved == (q1.id, q2.id)
    sent = hub.since(public_topic, before)
    assert len(sent) == 3
    assert json.loads(sent[-1].data)["rows"][0] == {"rank": 1, "entry_id": board.rows[0].entry_id, "name": "Ants",
                                                     "points": 200, "solved": [q1.id, q2.id]}

    # The board updates in another browser: the public stream's first event is the state now.
    page = client.get(f"/events/{event.id}")
    assert page.status_code == 200 and "Ants" in page.get_data(as_text=True)

    # Freeze: the public keeps the board as it was; organisers see it live.
    set_times(event, freeze_at=utcnow())
    frozen_from = hub.last_id(public_topic)
    organiser_from = hub.last_id(organiser_topic)
    _solve(organiser, crows_cap, q1, crows)
    _solve(organiser, crows_cap, q2, crows)
    _solve(organiser, crows_cap, q3, crows)
    public = services.scoreboard(db.session, event).public()
    assert public.view == "frozen" and ("Crows", 0) in _names(public)
    live_board = services.scoreboard(db.session, event, live=True)
    assert _names(live_board)[0] == ("Crows", 300)
    assert hub.since(public_topic, frozen_from) == []  # nothing the public sees changed
    assert json.loads(hub.since(organiser_topic, organiser_from)[-1].data)["rows"][0]["name"] == "Crows"
    assert json.loads(client.get(f"/events/{event.id}/scoreboard.json").data)["rows"][0]["name"] == "Ants"
    login(organiser)
    assert json.loads(client.get(f"/events/{event.id}/scoreboard.json").data)["rows"][0]["name"] == "Crows"
    login(make_user())
    assert client.get(f"/events/{event.id}/scoreboard/live").status_code == 403

    # The end: everyone sees the final board; badges are awarded once.
    set_times(event, ends_at=utcnow())
    results = client.get(f"/events/{event.id}/results")
    text = results.get_data(as_text=True)
    assert results.status_code == 200 and "Final results" in text
    assert text.index("Crows") < text.index("Ants") < text.index("Bees")
    assert json.loads(hub.since(public_topic, frozen_from)[-1].data)["view"] == "final"
    podium = {captain.id for captain in (crows_cap, ants_cap, bees_cap)}
    awarded = dict.fromkeys(("jam-podium", "jam-finisher"))
    for code in awarded:
        awarded[code] = set(db.session.scalars(select(BadgeAward.user_id).where(BadgeAward.code == code)))
    assert podium <= awarded["jam-podium"] and doves_cap.id not in awarded["jam-finisher"]
    assert len(awarded["jam-podium"]) == 6 and len(awarded["jam-finisher"]) == 6  # both members of three teams
    count = db.session.scalar(select(func.count()).select_from(BadgeAward))
    client.get(f"/events/{event.id}/results")
    assert services.finalise(db.session, event=db.session.get(type(event), event.id)) is False
    assert db.session.scalar(select(func.count()).select_from(BadgeAward)) == count
