"""The whole quest loop through the web pages, as a newcomer does it in a browser."""
from __future__ import annotations

import re

from sqlalchemy import select

from accounts.models import Team, User
from challenges.models import Claim, Problem, Quest
from extensions import db


def fresh_client(app):
    return app.test_client()


def register(app, name: str, email: str):
    client = fresh_client(app)
    response = client.post("/register", data={"display_name": name, "email": email,
                                              "password": "a long walk home", "confirm": "a long walk home"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def test_report_quest_claim_submit_approve_and_see_the_points(app, ctx, runner):
    reporter = register(app, "Watchful Wren", "wren@example.org")
    reporter.post("/problems/new", data={"title": "Overflowing bin by the harbour", "category": "litter",
                                         "description": "Rubbish blowing into the water.",
                                         "lat": "51.4491", "lon": "-2.5984", "address": "Harbourside"})
    problem = db.session.scalar(select(Problem))

    organiser = register(app, "Teacher Tam", "tam@example.org")
    assert runner.invoke(args=["users", "set-role", "tam@example.org", "organiser"]).exit_code == 0
    organiser.post("/quests/new", data={"title": "Harbour clean-up", "brief": "Keep plastic out of the water.",
                                        "points": "120", "difficulty": "easy", "mode": "team",
                                        "evidence_wanted": "Bags collected.", "starts_at": "",
                                        "ends_at": "2099-01-01T12:00", "problem_id": str(problem.id)})
    quest = db.session.scalar(select(Quest))
    assert quest.problem_id == problem.id

    player = register(app, "Brave Puffin", "puffin@example.org")
    player.post("/teams/new", data={"name": "Harbour Heroes"})
    team = db.session.scalar(select(Team))
    quest_page = player.get(f"/quests/{quest.id}").get_data(as_text=True)
    assert "Harbour Heroes" in quest_page and "Keep plastic out of the water." in quest_page
    response = player.post(f"/quests/{quest.id}/claim", data={"team_id": str(team.id)})
    claim = db.session.scalar(select(Claim))
    assert response.headers["Location"] == f"/claims/{claim.id}"
    player.post(f"/claims/{claim.id}/submit", data={"evidence": "Four bags from the harbour wall."})
    assert "submitted" in player.get("/claims").get_data(as_text=True)

    queue = organiser.get("/review").get_data(as_text=True)
    assert "Harbour clean-up" in queue and "Brave Puffin" in queue
    organiser.post(f"/claims/{claim.id}/review", data={"decision": "approve", "reason": "Great work"})
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == "approved"

    boards = player.get("/leaderboards").get_data(as_text=True)
    assert re.search(r"<td>1</td><td>Brave Puffin</td><td>120</td>", boards)
    assert re.search(r"<td>1</td><td>Harbour Heroes</td><td>120</td>", boards)
    assert "You are <strong>#1</strong> with 120 points" in boards
    assert "approved" in player.get("/claims").get_data(as_text=True)
    team_page = player.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "<strong>120</strong> points" in team_page
    assert db.session.scalar(select(User).where(User.email == "wren@example.org")).display_name == "Watchful Wren"
