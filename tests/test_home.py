"""The home page: what a participant can do now, a visitor's way in, the place's impact,
and a new site's first steps."""
from __future__ import annotations

from datetime import date, timedelta

from challenges import tracker
from extensions import db
from scoring.models import Season
from tests.factories import approve, make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from timeutil import utcnow
from web import closes_in

NEAR = dict(lat=51.4545, lon=-2.5879)
FAR = dict(lat=51.5074, lon=-0.1278)  # London, 170 km away


def quest_at(organiser, title, where, **kw):
    problem = make_problem(organiser, title=f"Problem for {title}", **where)
    return make_quest(organiser, title=title, problem_id=problem.id, **kw)


def test_countdown_words():
    now = utcnow()
    assert closes_in(now + timedelta(hours=3, minutes=5), now) == "closes in 3 hours"
    assert closes_in(now + timedelta(days=1, hours=2), now) == "closes in 1 day"
    assert closes_in(now + timedelta(minutes=25, seconds=3), now) == "closes in 25 minutes"
    assert closes_in(now - timedelta(seconds=1), now) == "closed"


def test_visitor_sees_open_problems_and_the_ways_in(client):
    reporter = make_user()
    make_problem(reporter, title="Broken swing in the park")
    html = client.get("/").text
    assert "Report a problem" in html and "Join a team" in html
    assert "Broken swing in the park" in html
    assert "data-problem-map" in html and "status=open" in html  # the map asks for unresolved problems
    assert "leaflet.markercluster.js" not in html  # the home map stays light


def test_participant_sees_quests_near_their_saved_area_nearest_first(client, login):
    organiser = make_organiser()
    quest_at(organiser, "Clear the canal path", NEAR, brief="Kids walk this way to school.")
    quest_at(organiser, "Paint the Thames railings", FAR)
    player = make_user()
    tracker.subscribe_area(db.session, actor=player, lat=NEAR["lat"], lon=NEAR["lon"], radius_m=1000)
    db.session.commit()
    html = login(player).get("/").text
    near = html.split('id="near"')[1].split("</section>")[0]
    assert "Quests near your area" in near
    assert "Clear the canal path" in near and "Kids walk this way to school." in near
    assert "Paint the Thames railings" not in near


def test_browser_location_finds_quests_near_it_and_bad_input_is_explained(client, login):
    organiser = make_organiser()
    quest_at(organiser, "Paint the Thames railings", FAR)
    player = login(make_user())
    near = player.get("/?lat=51.5074&lon=-0.1278").text.split('id="near"')[1].split("</section>")[0]
    assert "Paint the Thames railings" in near
    response = player.get("/?lat=north&lon=-0.1")
    assert response.status_code == 200
    assert "We could not read that location" in response.text


def test_without_a_location_the_page_offers_one_and_says_what_to_do(client, login):
    html = login(make_user()).get("/").text
    assert "data-locate" in html and "follow an area" in html
    assert "No quests with a deadline right now" in html


def test_nothing_near_says_what_to_do_next(client, login):
    html = login(make_user()).get("/?lat=10&lon=10").text
    assert "No open quests near you right now" in html and "Report a problem" in html


def test_closing_soon_shows_a_countdown_points_difficulty_and_why(client, login):
    organiser = make_organiser()
    quest = make_quest(organiser, title="Sweep the market", points=70, difficulty="medium",
                       brief="Traders open at six.", ends_at=utcnow() + timedelta(hours=3, minutes=30))
    html = login(make_user()).get("/").text
    closing = html.split('id="closing"')[1].split("</section>")[0]
    assert "Sweep the market" in closing and "70 pts" in closing and "medium" in closing
    assert "Traders open at six." in closing
    assert "closes in 3 hours" in closing
    assert "<time" in closing and "data-countdown" in closing and quest.ends_at.strftime("%Y-%m-%dT%H:%M") in closing


def test_impact_numbers_count_fixes_in_the_open_season_and_ever(client, app):
    app.config["PLACE_NAME"] = "Riverside"
    organiser, player = make_organiser(), make_user()
    today = date.today()
    db.session.add(Season(name="Autumn term", starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=30)))
    db.session.add(Season(name="Last spring", starts_on=today - timedelta(days=300), ends_on=today - timedelta(days=200)))
    db.session.commit()
    for n in range(2):
        problem = make_problem(player, title=f"Litter {n}")
        approve(organiser, make_claim(player, make_quest(organiser, problem_id=problem.id), submit=True))
    html = client.get("/").text
    assert "Riverside has fixed 2 problems</strong> in Autumn term" in html
    assert "Last spring" not in html
    assert "2 problems fixed</strong> since the start" in html


def test_first_run_guides_the_admin_and_each_step_disappears_when_done(client, login):
    admin = make_user(role="admin")
    login(admin)
    html = client.get("/").text
    assert "Set up your site" in html
    assert "Make an organiser" in html and "Make a first quest" in html and "Make a first team" in html
    organiser = make_organiser()
    html = client.get("/").text
    assert "Make an organiser" not in html and "Make a first quest" in html
    make_quest(organiser)
    make_team(organiser)
    assert "Set up your site" not in client.get("/").text


def test_first_run_is_only_for_admins(client, login):
    assert "Set up your site" not in client.get("/").text
    assert "Set up your site" not in login(make_user()).get("/").text


def test_the_demo_shows_the_full_picture(app, runner, client, login):
    from accounts.models import User
    from sqlalchemy import select

    assert runner.invoke(args=["demo"]).exit_code == 0
    visitor = client.get("/").text
    assert "term" in section_of(visitor, "impact") and "problems fixed</strong> since the start" in visitor
    assert "Campaigns running now" in visitor
    tom = db.session.scalar(select(User).where(User.display_name == "Tidy Tom"))
    near = section_of(login(tom).get("/").text, "near")
    assert "Quests near your area" in near and "pts" in near
    dashboard = client.get("/dashboard").text
    assert "Harbour Hannah said thank you" in section_of(dashboard, "thanked")
    assert "state-approved" in dashboard


def section_of(html: str, heading_id: str) -> str:
    return html.split(f'id="{heading_id}"')[1].split("</section>")[0]
