"""The personal dashboard: progress, this week, badges on the way, every claim, the people
around the work, a celebration shown once, and children's privacy."""
from __future__ import annotations

from sqlalchemy import select

from accounts import kudos
from childsafe import services as childsafe
from childsafe.models import ModerationHold
from extensions import db
from tests.childsafe.helpers import make_class
from tests.factories import approve, make_claim, make_organiser, make_quest, make_team, make_user


def section(html: str, heading_id: str) -> str:
    return html.split(f'id="{heading_id}"')[1].split("</section>")[0]


def test_dashboard_is_in_the_nav_and_needs_a_login(client, login):
    assert client.get("/dashboard").status_code == 302
    html = login(make_user()).get("/").text
    assert 'href="/dashboard"' in html


def test_progress_week_points_and_badges_on_the_way(client, login):
    organiser, player = make_organiser(), make_user()
    approve(organiser, make_claim(player, make_quest(organiser, points=50), submit=True))
    html = login(player).get("/dashboard").text
    standing = section(html, "standing")
    assert "Level 1" in standing and "<progress" in standing
    assert "50</span> lifetime points" in standing and "<strong>50</strong> this week" in standing
    assert "50 more points to reach level 2" in standing
    assert "4 more fixes for Five Fixes" in section(html, "badges")
    assert "1 week</strong> in a row" in section(html, "streak")


def test_every_claim_is_listed_with_its_state_and_a_link(client, login):
    organiser, player = make_organiser(), make_user()
    taken = make_claim(player, make_quest(organiser, title="Weed the planters"))
    submitted = make_claim(player, make_quest(organiser, title="Paint the bench"), submit=True)
    html = section(login(player).get("/dashboard").text, "claims")
    assert f'href="/claims/{taken.id}"' in html and f'href="/claims/{submitted.id}"' in html
    assert "state-taken" in html and "state-submitted" in html and "closes in" in html


def test_empty_dashboard_says_what_to_do_next(client, login):
    html = login(make_user()).get("/dashboard").text
    assert "No claims yet" in html and "Join or start a team" in html and "No reviews yet" in html


def test_who_reviewed_who_thanked_and_team_activity(client, login):
    organiser = make_organiser(name="Rita Reviewer")
    player, mate, neighbour = make_user(name="Pat Player"), make_user(name="Mo Mate"), make_user(name="Nell Neighbour")
    make_team(player, members=(mate,))
    claim = approve(organiser, make_claim(player, make_quest(organiser, title="Clear the drain"), submit=True))
    kudos.give_kudos(db.session, actor=neighbour, claim=claim)
    db.session.commit()
    approve(organiser, make_claim(mate, make_quest(organiser, title="Fix the gate"), submit=True))
    html = login(player).get("/dashboard").text
    assert "Rita Reviewer approved" in section(html, "reviewed")
    assert "Nell Neighbour said thank you" in section(html, "thanked")
    activity = section(html, "team-activity")
    assert "Mo Mate" in activity and "Fix the gate" in activity and "Clear the drain" not in activity


def test_a_new_badge_and_level_are_celebrated_once(client, login):
    organiser, player = make_organiser(), make_user()
    login(player)
    assert "data-celebration" not in client.get("/dashboard").text
    approve(organiser, make_claim(player, make_quest(organiser, points=120), submit=True))
    html = client.get("/dashboard").text
    party = section(html, "celebrate")
    assert "level 2" in party and "First Fix" in party
    assert "Well done" in client.get("/dashboard").text  # still there until dismissed
    assert client.post("/dashboard/celebrated", data={}).status_code == 302
    assert "data-celebration" not in client.get("/dashboard").text
    for _ in range(4):
        approve(organiser, make_claim(player, make_quest(organiser, points=20), submit=True))
    party = section(client.get("/dashboard").text, "celebrate")
    assert "Five Fixes" in party and "First Fix" not in party and "level 2" not in party
    response = client.post("/dashboard/celebrated", data={}, headers={"Accept": "application/json"})
    assert response.status_code == 204
    assert "data-celebration" not in client.get("/dashboard").text


def test_the_celebration_animation_stops_under_reduced_motion(client):
    css = client.get("/static/fixquest.css").text
    assert "animation: celebrate" in css
    reduced = css.split("@media (prefers-reduced-motion: reduce)")
    assert any(".celebration { animation: none; }" in part.split("}\n")[0] + "}" for part in reduced[1:])


def test_a_childs_dashboard_names_only_people_in_their_class(client, login):
    teacher, team, [child] = make_class(None, "Ada Pupil")
    outsider = make_organiser(name="Otto Outsider")
    claim = make_claim(child, make_quest(outsider, title="Pick up litter"), submit=True)
    hold = db.session.scalar(select(ModerationHold).where(ModerationHold.claim_id == claim.id))
    childsafe.decide(db.session, actor=teacher, hold=hold, decision="approve")
    db.session.commit()
    approve(outsider, claim)
    html = login(child).get("/dashboard").text
    reviewed = section(html, "reviewed")
    assert "A reviewer approved" in reviewed and "Otto Outsider" not in html
    assert "Join or start a team" not in html
