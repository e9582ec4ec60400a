"""Profiles: level with a progress bar, streak, badges, recent fixes; never an email."""
from __future__ import annotations

import re

from flask_login import AnonymousUserMixin

from extensions import db
from scoring.profile_views import can_view_profile
from tests.factories import approve, make_claim, make_organiser, make_problem, make_quest, make_user
from tests.querycount import counting

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def fix(organiser, player, *, title="Clear the bus stop litter", points=50, category="litter"):
    quest = make_quest(organiser, title=title, points=points,
                       problem_id=make_problem(organiser, category=category).id)
    return approve(organiser, make_claim(player, quest, submit=True))


def test_profile_shows_level_progress_badges_and_fixes(client, ctx):
    organiser = make_organiser()
    player = make_user(name="Robin Fixer", email="robin@example.org")
    fix(organiser, player, title="Sweep the underpass", points=70)
    html = client.get(f"/people/{player.id}").get_data(as_text=True)
    assert "<h1>Robin Fixer</h1>" in html
    assert "Level 1" in html
    assert '<progress id="level-progress" max="100" value="70">70 of 100 points</progress>' in html
    assert "30 more to reach level 2" in html
    assert "70</span> lifetime points" in html
    assert "First Fix" in html and "Litter Fixer" in html
    assert 'src="/static/badges/first-fix.svg"' in html
    assert re.search(r'Earned <time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">', html)
    assert f'href="/people/{player.id}/badges/first-fix.json"' in html
    assert "4 more fixes for Five Fixes" in html
    assert "3 more weeks in a row for Four-Week Streak" in html
    assert "Sweep the underpass" in html
    assert "<strong>1 week</strong> in a row" in html


def test_no_email_on_any_profile(client, ctx):
    organiser = make_organiser(email="organiser@example.org")
    player = make_user(email="player@example.org")
    fix(organiser, player)
    for person in (player, organiser):
        html = client.get(f"/people/{person.id}").get_data(as_text=True)
        assert not EMAIL.search(html), person


def test_a_new_participant_has_an_empty_profile(client, ctx):
    player = make_user(name="Newcomer")
    html = client.get(f"/people/{player.id}").get_data(as_text=True)
    assert '<progress id="level-progress" max="100" value="0">' in html
    assert "No badges yet" in html and "No approved fixes yet" in html and "No streak right now" in html
    assert "1 more fix for First Fix" in html


def test_reviewers_see_their_review_progress(client, ctx):
    organiser = make_organiser()
    fix(organiser, make_user())
    html = client.get(f"/people/{organiser.id}").get_data(as_text=True)
    assert "9 more reviews for Careful Reviewer" in html


def test_people_hidden_from_boards_still_have_a_profile(client, ctx):
    player = make_user(name="Quiet One")
    player.hidden_from_boards = True
    db.session.commit()
    response = client.get(f"/people/{player.id}")
    assert response.status_code == 200 and "Quiet One" in response.get_data(as_text=True)


def test_unknown_people_are_not_found(client, ctx):
    assert client.get("/people/999999").status_code == 404


def test_me_goes_to_your_own_profile(client, login, ctx):
    player = make_user()
    login(player)
    response = client.get("/me")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/people/{player.id}")
    assert "This is your public profile" in client.get(f"/people/{player.id}").get_data(as_text=True)


def test_me_needs_a_login(app, ctx):
    response = app.test_client().get("/me")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_everyone_may_view_a_profile_today(ctx):
    person, other = make_user(), make_user()
    assert can_view_profile(AnonymousUserMixin(), person)
    assert can_view_profile(other, person)
    assert can_view_profile(person, person)


def test_profile_queries_do_not_grow_with_history(client, ctx):
    organiser = make_organiser()
    small, large = make_user(), make_user()
    fix(organiser, small)
    for category in ("pothole", "litter", "graffiti", "other", "litter", "pothole", "graffiti"):
        fix(organiser, large, category=category)
    counts = []
    for person_id in (small.id, large.id):
        with counting(db.engine) as statements:
            assert client.get(f"/people/{person_id}").status_code == 200
        counts.append(len(statements))
    # The same however long the history (kudos and the children-privacy check each add one).
    assert counts[0] == counts[1] <= 7, counts
