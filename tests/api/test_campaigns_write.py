"""Campaign actions and fix stories through the API: creating a campaign (the page's rules,
the same area checks), pledging in a vote, counting the votes, launching the chosen one,
and reading and writing a problem's fix story, with the pages' refusals."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from accounts.models import User
from campaigns.models import Campaign, CampaignStatus, FixStory, Pledge
from challenges.models import Problem
from extensions import db
from tests.api import auth, error_of
from tests.api.test_events_write import read_token
from tests.factories import make_organiser, make_problem, make_team, make_user
from tests.test_campaigns import FORM, fix
from tests.test_pledges import voting_campaign, with_points
from timeutil import utcnow

WARD = {"kind": "bbox", "bbox": [-2.60, 51.44, -2.57, 51.47]}


def campaign_body(**overrides) -> dict:
    body = {"title": "Fix 4 problems in the Old City", "why": "Everyone walks through here.", "area": WARD,
            "goal": 4, "ends_at": "2099-07-01T11:00:00Z"}
    body.update(overrides)
    return body


def campaigns_count() -> int:
    return db.session.scalar(select(func.count(Campaign.id)))


def fresh(campaign_id: int) -> Campaign:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id)


# --- creating ---------------------------------------------------------------------------------

def test_an_organiser_launches_a_campaign_now(client):
    organiser = make_organiser(name="Olive Organiser")
    response = client.post("/api/v1/campaigns", json=campaign_body(categories=["pothole", "litter"]),
                           headers=auth(organiser))
    assert response.status_code == 201
    body = response.get_json()
    assert (body["status"], body["goal"], body["organiser"]) == ("active", 4, "Olive Organiser")
    assert body["area"]["kind"] == "bbox" and body["area"]["bbox"] == [-2.60, 51.44, -2.57, 51.47]
    assert body["categories"] == ["pothole", "litter"] and body["progress"]["count"] == 0
    assert body["starts_at"] is not None and body["voting_closes_at"] is None
    assert organiser.email not in response.get_data(as_text=True)
    assert client.get(response.headers["Location"]).get_json()["id"] == body["id"]


def test_an_organiser_puts_a_circle_campaign_to_the_vote(client):
    closes = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    response = client.post("/api/v1/campaigns", json=campaign_body(
        area={"kind": "circle", "lat": 51.4545, "lon": -2.5879, "radius_m": 500}, start="vote",
        voting_closes_at=closes.isoformat()), headers=auth(make_organiser()))
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "voting" and body["area"]["radius_m"] == 500 and body["starts_at"] is None
    assert body["voting_closes_at"] == closes.isoformat().replace("+00:00", "Z")


def test_a_vote_needs_a_closing_time_on_the_page_and_in_the_api(client, login):
    organiser = make_organiser()
    api = client.post("/api/v1/campaigns", json=campaign_body(start="vote"), headers=auth(organiser))
    assert api.status_code == 422 and error_of(api)["fields"] == {"voting_closes_at": ["Say when voting closes."]}
    login(organiser)
    page = client.post("/campaigns/new", data={**FORM, "start": "vote", "voting_closes_at": ""})
    assert page.status_code == 422 and "Say when voting closes." in page.get_data(as_text=True)
    assert campaigns_count() == 0


def test_creating_a_campaign_refusals(client):
    organiser = make_organiser()
    assert client.post("/api/v1/campaigns", json=campaign_body()).status_code == 401
    read_only = client.post("/api/v1/campaigns", json=campaign_body(), headers=read_token(organiser))
    assert read_only.status_code == 403 and error_of(read_only)["code"] == "insufficient_scope"
    participant = client.post("/api/v1/campaigns", json={"area": "everywhere"}, headers=auth(make_user()))
    assert participant.status_code == 403 and error_of(participant)["code"] == "forbidden"
    headers = auth(organiser)
    no_area = client.post("/api/v1/campaigns", json=campaign_body(area=None), headers=headers)
    assert no_area.status_code == 422 and list(error_of(no_area)["fields"]) == ["area"]
    several = client.post("/api/v1/campaigns", json=campaign_body(title="x", goal=0, categories=["dragons"],
                                                                  ends_at="2001-01-01T00:00:00Z"), headers=headers)
    assert several.status_code == 422
    assert set(error_of(several)["fields"]) == {"title", "goal", "categories", "ends_at"}
    wrong_types = client.post("/api/v1/campaigns", json=campaign_body(goal="4", categories="pothole", start="later"),
                              headers=headers)
    assert wrong_types.status_code == 422 and set(error_of(wrong_types)["fields"]) == {"goal", "categories", "start"}
    assert campaigns_count() == 0


@pytest.mark.parametrize("area, form_change, message", [
    ({"kind": "bbox", "bbox": [-2.60, 51.50, -2.57, 51.47]}, {"min_lat": "51.50"},
     "The minimum latitude (second number) must not be above the maximum"),
    ({"kind": "circle", "lat": 51.45, "lon": -2.58}, {"area_kind": "circle"}, "Give the centre and the radius."),
    ({"kind": "circle", "lat": 51.45, "lon": -2.58, "radius_m": 90000},
     {"area_kind": "circle", "centre_lat": "51.45", "centre_lon": "-2.58", "radius_m": "90000"},
     "Must be between 1 and 5000 metres."),
    ({"kind": "bbox", "bbox": [-2.60, 51.44, -2.57]}, None, "give four numbers"),
    ({"kind": "bbox", "bbox": [-2.60, "north", -2.57, 51.47]}, None, "Give the edges as numbers."),
    ({"kind": "ward"}, None, "Choose one of: bbox, circle."),
])
def test_the_api_and_the_page_refuse_the_same_area(client, login, area, form_change, message):
    organiser = make_organiser()
    api = client.post("/api/v1/campaigns", json=campaign_body(area=area), headers=auth(organiser))
    assert api.status_code == 422 and message in error_of(api)["fields"]["area"][0]
    if form_change is not None:
        login(organiser)
        page = client.post("/campaigns/new", data={**FORM, **form_change})
        assert page.status_code == 422 and message in page.get_data(as_text=True)
    assert campaigns_count() == 0


# --- pledges, the vote and the launch ---------------------------------------------------------

def test_a_participant_pledges_tokens_and_sees_what_is_left(client):
    player = with_points(make_user(), 50)
    campaign = voting_campaign(make_organiser())
    url, headers = f"/api/v1/campaigns/{campaign.id}/pledges", auth(player)
    response = client.post(url, json={"tokens": 3}, headers=headers)
    assert response.status_code == 201
    assert response.get_json() == {"campaign_id": campaign.id, "tokens": 3, "pledges": {"tokens": 3, "people": 1},
                                   "my_tokens": {"earned": 5, "pledged": 3, "available": 2}}
    again = client.post(url, json={"tokens": 2}, headers=headers).get_json()
    assert again["pledges"] == {"tokens": 5, "people": 1} and again["my_tokens"]["available"] == 0
    assert client.get(f"/api/v1/campaigns/{campaign.id}").get_json()["pledges"] == {"tokens": 5, "people": 1}


def test_pledge_refusals(client):
    player = with_points(make_user(), 20)
    organiser = make_organiser()
    campaign = voting_campaign(organiser)
    url = f"/api/v1/campaigns/{campaign.id}/pledges"
    assert client.post(url, json={"tokens": 1}).status_code == 401
    assert client.post(url, json={"tokens": 1}, headers=read_token(player)).status_code == 403
    headers = auth(player)
    too_many = client.post(url, json={"tokens": 3}, headers=headers)
    assert too_many.status_code == 422 and error_of(too_many)["code"] == "not_enough_tokens"
    assert error_of(too_many)["fields"] == {"tokens": ["You have 2 tokens to pledge, not 3."]}
    for bad in (0, -2):
        zero = client.post(url, json={"tokens": bad}, headers=headers)
        assert zero.status_code == 422 and error_of(zero)["fields"] == {"tokens": ["Pledge at least 1 token."]}
    assert client.post(url, json={"tokens": "2"}, headers=headers).status_code == 422
    assert client.post(url, json={}, headers=headers).status_code == 422
    assert client.post("/api/v1/campaigns/999/pledges", json={"tokens": 1}, headers=headers).status_code == 404
    running = client.post("/api/v1/campaigns", json=campaign_body(), headers=auth(organiser)).get_json()
    closed = client.post(f"/api/v1/campaigns/{running['id']}/pledges", json={"tokens": 1}, headers=headers)
    assert closed.status_code == 409 and error_of(closed)["code"] == "voting_closed"
    assert db.session.scalar(select(func.count(Pledge.id))) == 0


def test_organisers_count_the_votes_and_the_chosen_campaigns_organiser_launches_it(client):
    organiser, other_organiser = make_organiser(), make_organiser()
    underpass = voting_campaign(organiser)
    benches = voting_campaign(other_organiser, title="Mend the benches")
    for player, choice, amount in ((with_points(make_user(), 30), underpass, 3),
                                   (with_points(make_user(), 40), benches, 4)):
        assert client.post(f"/api/v1/campaigns/{choice.id}/pledges", json={"tokens": amount},
                           headers=auth(player)).status_code == 201
    nothing_yet = client.post("/api/v1/campaigns/close-voting", headers=auth(organiser))
    assert nothing_yet.status_code == 200 and nothing_yet.get_json() == {"chosen": None}
    db.session.execute(update(Campaign).values(voting_closes_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    assert client.post("/api/v1/campaigns/close-voting").status_code == 401
    assert client.post("/api/v1/campaigns/close-voting", headers=read_token(organiser)).status_code == 403
    participant = client.post("/api/v1/campaigns/close-voting", headers=auth(make_user()))
    assert participant.status_code == 403 and fresh(benches.id).status == CampaignStatus.voting.value

    counted = client.post("/api/v1/campaigns/close-voting", headers=auth(organiser))
    assert counted.status_code == 200
    chosen = counted.get_json()["chosen"]
    assert chosen["id"] == benches.id and chosen["status"] == "proposed" and chosen["pledges"]["tokens"] == 4
    assert fresh(underpass.id).status == CampaignStatus.proposed.value

    not_its_organiser = client.post(f"/api/v1/campaigns/{benches.id}/launch", headers=auth(organiser))
    assert not_its_organiser.status_code == 403
    not_chosen = client.post(f"/api/v1/campaigns/{underpass.id}/launch", headers=auth(organiser))
    assert not_chosen.status_code == 409 and error_of(not_chosen)["code"] == "not_launchable"
    launched = client.post(f"/api/v1/campaigns/{benches.id}/launch", headers=auth(other_organiser))
    assert launched.status_code == 200 and launched.get_json()["status"] == "active"
    twice = client.post(f"/api/v1/campaigns/{benches.id}/launch", headers=auth(other_organiser))
    assert twice.status_code == 409


def test_launching_with_a_past_end_needs_a_new_one(client):
    organiser = make_organiser()
    campaign = voting_campaign(organiser)
    db.session.execute(update(Campaign).where(Campaign.id == campaign.id).values(
        status=CampaignStatus.proposed.value, chosen_at=utcnow(), ends_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    url, headers = f"/api/v1/campaigns/{campaign.id}/launch", auth(organiser)
    assert client.post(url).status_code == 401
    assert client.post(url, headers=read_token(organiser)).status_code == 403
    past = client.post(url, headers=headers)
    assert past.status_code == 422 and list(error_of(past)["fields"]) == ["ends_at"]
    assert client.post(url, json={"ends_at": "soon"}, headers=headers).status_code == 422
    new_end = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    launched = client.post(url, json={"ends_at": new_end.isoformat()}, headers=headers)
    assert launched.status_code == 200 and launched.get_json()["ends_at"] == new_end.isoformat().replace("+00:00", "Z")
    assert client.post("/api/v1/campaigns/999/launch", headers=headers).status_code == 404


# --- fix stories ------------------------------------------------------------------------------

def test_a_fixer_tells_the_fix_story_and_anyone_reads_it(client):
    organiser, fixer = make_organiser(), make_user(name="Handy Heron")
    problem_id = fix(organiser, fixer).quest.problem_id
    url = f"/api/v1/problems/{problem_id}/fix-story"
    none_yet = client.get(url)
    assert none_yet.status_code == 404 and error_of(none_yet)["code"] == "not_found"
    written = client.post(url, json={"story": "  Filled it with cold lay tarmac.  "}, headers=auth(fixer))
    assert written.status_code == 201 and written.headers["Location"].endswith(url)
    body = written.get_json()
    assert body["story"] == "Filled it with cold lay tarmac." and body["author"] == "Handy Heron"
    assert body["before_photo"] is None and body["after_photo"] is None
    assert client.get(url).get_json() == body
    history = client.get(f"/api/v1/problems/{problem_id}/updates").get_json()["items"]
    assert [entry["kind"] for entry in history][-1] == "fix" and history[-1]["id"] == body["update_id"]
    again = client.post(url, json={"story": "Another go."}, headers=auth(organiser))
    assert again.status_code == 409 and error_of(again)["code"] == "story_exists"


def test_fix_story_refusals(client):
    organiser = make_organiser()
    problem_id = fix(organiser).quest.problem_id
    url = f"/api/v1/problems/{problem_id}/fix-story"
    assert client.post(url, json={"story": "Fixed."}).status_code == 401
    assert client.post(url, json={"story": "Fixed."}, headers=read_token(organiser)).status_code == 403
    stranger = client.post(url, json={"story": 5}, headers=auth(make_user()))  # refused before the body is read
    assert stranger.status_code == 403 and error_of(stranger)["code"] == "forbidden"
    unfixed = client.post(f"/api/v1/problems/{make_problem(organiser).id}/fix-story", json={"story": "Fixed."},
                          headers=auth(organiser))
    assert unfixed.status_code == 403 and "no approved fix yet" in error_of(unfixed)["message"]
    for story in ("   ", "x" * 1001):
        bad = client.post(url, json={"story": story}, headers=auth(organiser))
        assert bad.status_code == 422 and list(error_of(bad)["fields"]) == ["story"]
    assert client.post(url, json={}, headers=auth(organiser)).status_code == 422
    assert client.post("/api/v1/problems/99999/fix-story", json={"story": "Fixed."},
                       headers=auth(organiser)).status_code == 404
    assert db.session.scalar(select(func.count(FixStory.id))) == 0


def test_a_childs_account_writes_no_story(client):
    organiser, teacher, child = make_organiser(), make_organiser(), make_user(name="Real Child Name")
    headers = auth(child)  # a token made before the account became a child's
    db.session.execute(update(User).where(User.id == child.id).values(is_child=True))
    db.session.commit()
    make_team(teacher, name="Class 3", members=(child,))
    problem_id = fix(organiser, child, teacher=teacher).quest.problem_id
    response = client.post(f"/api/v1/problems/{problem_id}/fix-story", json={"story": "We fixed it."},
                           headers=headers)
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(FixStory.id))) == 0


def test_a_hidden_problems_story_is_not_found(client):
    organiser, fixer = make_organiser(), make_user()
    problem_id = fix(organiser, fixer).quest.problem_id
    url = f"/api/v1/problems/{problem_id}/fix-story"
    assert client.post(url, json={"story": "Filled it."}, headers=auth(fixer)).status_code == 201
    db.session.execute(update(Problem).where(Problem.id == problem_id).values(visibility="hidden"))
    db.session.commit()
    assert client.get(url).status_code == 404
    other = fix(organiser, fixer).quest.problem_id
    db.session.execute(update(Problem).where(Problem.id == other).values(visibility="hidden"))
    db.session.commit()
    hidden = client.post(f"/api/v1/problems/{other}/fix-story", json={"story": "Filled it."}, headers=auth(fixer))
    assert hidden.status_code == 404


def test_an_id_too_large_for_any_row_is_404_whichever_method_shares_the_path(client):
    """Werkzeug would answer 405 for the POST (the GET's rule matched the shape first)."""
    headers = auth(make_organiser())
    huge = 2350817319
    for method, path in (("POST", f"/api/v1/problems/{huge}/fix-story"), ("GET", f"/api/v1/problems/{huge}/fix-story"),
                         ("POST", f"/api/v1/teams/{huge}/requests")):
        response = client.open(path, method=method, json={"story": "Fixed."}, headers=headers)
        assert response.status_code == 404, (method, path)
        assert error_of(response)["code"] == "not_found"
    wrong_method = client.delete("/api/v1/problems/1/fix-story", headers=headers)
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["Allow"]
