"""Campaigns through the API: the list by status, and one campaign with its progress,
milestones and contributors (children and hidden people only counted)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from accounts.models import User
from campaigns.models import Campaign
from challenges import services as challenge_services
from extensions import db
from maps.area import Circle
from tests.api import error_of
from tests.factories import approve, make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from tests.test_campaigns import fix, make_campaign, release
from timeutil import utcnow


def test_the_campaign_list_filters_by_status_and_paginates(client, ctx):
    organiser = make_organiser()
    running = make_campaign(organiser, title="Running campaign")
    ended = make_campaign(organiser, title="Ended campaign")
    db.session.execute(update(Campaign).where(Campaign.id == ended.id)
                       .values(ends_at=utcnow() - timedelta(days=1), starts_at=utcnow() - timedelta(days=9)))
    db.session.commit()
    fix(organiser)
    active = client.get("/api/v1/campaigns?status=active").get_json()
    assert [(c["id"], c["status"]) for c in active["items"]] == [(running.id, "active")]
    assert active["items"][0]["progress"] == {"count": 1, "goal": 4, "percent": 25}
    finished = client.get("/api/v1/campaigns?status=finished").get_json()["items"]
    assert [c["title"] for c in finished] == ["Ended campaign"]
    first = client.get("/api/v1/campaigns?page_size=1").get_json()
    assert first["total"] == 2 and client.get(first["next"]).get_json()["next"] is None


def test_a_bad_status_filter_is_422_and_an_unknown_campaign_404(client):
    response = client.get("/api/v1/campaigns?status=dreaming")
    assert response.status_code == 422 and list(error_of(response)["fields"]) == ["status"]
    assert error_of(client.get("/api/v1/campaigns/999"))["code"] == "not_found"


def test_a_campaign_shows_its_area_progress_and_milestones(client, ctx):
    organiser = make_organiser(name="Olive Organiser")
    campaign = make_campaign(organiser, area=Circle(lat=51.4545, lon=-2.5879, radius_m=500), goal=2)
    fix(organiser)
    body = client.get(f"/api/v1/campaigns/{campaign.id}").get_json()
    assert body["area"]["kind"] == "circle" and body["area"]["radius_m"] == 500
    assert body["progress"]["percent"] == 50 and body["organiser"] == "Olive Organiser"
    assert [m["percent"] for m in body["milestones"]] == [25, 50]
    assert organiser.email not in client.get(f"/api/v1/campaigns/{campaign.id}").get_data(as_text=True)


def test_contributors_name_teams_and_consenting_people_never_children(client, ctx):
    organiser = make_organiser()
    named, hidden, child = make_user(name="Open Owl"), make_user(name="Quiet Vole"), make_user(name="Real Child Name")
    db.session.execute(update(User).where(User.id == hidden.id).values(hidden_from_boards=True))
    db.session.execute(update(User).where(User.id == child.id).values(is_child=True))
    db.session.commit()
    captain = make_organiser(name="Captain Crane")
    team = make_team(captain, name="Harbour Heroes", members=(child,))
    campaign = make_campaign(organiser)
    fix(organiser, named)
    fix(organiser, hidden)
    claim = make_claim(child, make_quest(organiser, mode="team", problem_id=make_problem(organiser).id), team=team)
    challenge_services.submit_evidence(db.session, actor=child, claim=claim, evidence="Done", members=[child.id])
    db.session.commit()
    release(captain, claim)
    approve(organiser, claim)
    response = client.get(f"/api/v1/campaigns/{campaign.id}")
    contributors = response.get_json()["contributors"]
    assert [p["name"] for p in contributors["people"]] == ["Open Owl"]
    assert [t["name"] for t in contributors["teams"]] == ["Harbour Heroes"] and contributors["unnamed"] == 2
    text = response.get_data(as_text=True)
    assert "Quiet Vole" not in text and "Real Child Name" not in text
