"""Children are visible only inside their class: profiles, badge files, team pages,
leaderboards (both backends)."""
from __future__ import annotations

import pytest

from childsafe.policy import may_see_child, teacher_ids
from extensions import db
from scoring import badges
from tests.childsafe.helpers import make_class, make_school_class
from tests.factories import make_organiser, make_team, make_user
from tests.test_leaderboards import pay

CHILD = "Zebedee Quillfeather"


def test_a_childs_teachers_are_organisers_captaining_a_team_they_are_in(ctx):
    teacher, team, (child,) = make_class(None, CHILD)
    adult_captain = make_user()
    make_team(adult_captain, members=(make_user(),))  # an unrelated team
    assert teacher_ids(db.session, child.id) == {teacher.id}
    assert may_see_child(db.session, teacher, child)
    assert not may_see_child(db.session, make_organiser(), child)


def test_a_childs_profile_is_a_404_outside_the_class(client, login):
    teacher, team, (child, classmate) = make_class(None, CHILD, "Ottoline Brambleworth")
    for viewer in (None, make_user(), make_organiser()):
        if viewer:
            login(viewer)
        response = client.get(f"/people/{child.id}")
        assert response.status_code == 404 and CHILD not in response.get_data(as_text=True)
    for viewer in (child, teacher, classmate):
        login(viewer)
        response = client.get(f"/people/{child.id}")
        assert response.status_code == 200 and CHILD in response.get_data(as_text=True)
    login(child)
    assert "Only you, your class and your teachers see this page." in client.get(f"/people/{child.id}").get_data(
        as_text=True)


def test_a_childs_badge_file_is_a_404_outside_the_class(client, login):
    teacher, team, (child,) = make_class(None, CHILD)
    badges.award(db.session, user_id=child.id, code="closer")
    db.session.commit()
    login(make_user())
    assert client.get(f"/people/{child.id}/badges/closer.json").status_code == 404
    login(teacher)
    assert client.get(f"/people/{child.id}/badges/closer.json").status_code == 200


def test_the_team_page_lists_children_only_inside_the_team(client, login):
    teacher, team, (child,) = make_class(None, CHILD, team_name="Class 5B")
    page = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert CHILD not in page and "Ms Teacher" in page and "not listed publicly" in page
    login(child)
    assert CHILD in client.get(f"/teams/{team.id}").get_data(as_text=True)


def test_children_are_never_on_public_boards_but_their_class_team_is(board, client, login):
    teacher, team, (child,) = make_class(None, CHILD, team_name="Class 5B")
    adult = make_user(name="Grown Up")
    pay("c", 90, user=child)
    pay("t", 90, team=team)
    pay("a", 10, user=adult)
    top = board.top("participants")
    assert [s.member_id for s in top] == [adult.id] and board.count("participants") == 1
    assert board.around("participants", child.id) is None
    assert [s.name for s in board.top("teams")] == ["Class 5B"]
    assert board.standing_of("participants", child.id).points == 90  # the child's own rank, for them
    assert board.top("participants", scope=board_scope(team)) == []
    for url in ("/leaderboards", "/leaderboards?board=participants&window=all", "/api/v1/leaderboards/participants",
                f"/leaderboards?board=participants&window=all&team_id={team.id}"):
        assert CHILD not in client.get(url).get_data(as_text=True)
    assert client.get(f"/api/v1/leaderboards/participants/around/{child.id}").status_code == 404
    assert "Class 5B" in client.get("/api/v1/leaderboards/teams?window=all").get_data(as_text=True)


def test_making_someone_a_child_takes_them_off_the_boards(board):  # noqa: F811
    person = make_user(name=CHILD)
    pay("p", 50, user=person)
    assert [s.name for s in board.top("participants")] == [CHILD]
    person.is_child = True
    db.session.commit()
    assert board.top("participants") == []


def board_scope(team):
    from scoring.leaderboards import team_scope

    return team_scope(team.id)


@pytest.mark.parametrize("enabled", [False, True])
def test_a_childs_profile_shows_streaks_only_when_the_teacher_turned_them_on(client, login, monkeypatch, enabled):
    from childsafe import policy

    if enabled:
        monkeypatch.setattr(policy, "child_settings", lambda session, user_id: policy.ChildSettings(streaks=True))
    teacher, team, (child,) = make_class(None, CHILD)
    login(child)
    page = client.get(f"/people/{child.id}").get_data(as_text=True)
    assert ("Streaks are switched off." in page) is not enabled
    login(make_user())
    assert "Streaks are switched off." not in client.get(f"/people/{make_user().id}").get_data(as_text=True)


def test_children_known_to_a_viewer_are_those_of_their_teams(ctx):
    from childsafe.policy import children_known_to

    teacher, team, (child, classmate) = make_class(None, CHILD, "Ottoline Brambleworth")
    other_teacher, _, (stranger,) = make_class(make_organiser(), "Someone Else")
    assert children_known_to(db.session, teacher) == {child.id, classmate.id}
    assert children_known_to(db.session, child) == {child.id, classmate.id}
    assert children_known_to(db.session, make_organiser()) == set()
    assert children_known_to(db.session, other_teacher) == {stranger.id}


def _class_team_fix(organiser, teacher, child, team):
    """A team quest at a campaign's problem, claimed by a child for their class, released by
    their teacher and approved."""
    from challenges import services as challenges
    from childsafe import services as childsafe
    from tests.factories import approve, make_claim, make_problem, make_quest

    quest = make_quest(organiser, mode="team", problem_id=make_problem(organiser, lat=51.4545, lon=-2.5879).id)
    claim = make_claim(child, quest, team=team)
    challenges.submit_evidence(db.session, actor=child, claim=claim, evidence="Swept", members=[child.id])
    db.session.commit()
    childsafe.decide(db.session, actor=teacher, hold=childsafe.hold_of(db.session, claim.id), decision="approve")
    db.session.commit()
    return approve(organiser, claim)


@pytest.mark.parametrize("public", [False, True])
def test_a_private_class_is_a_school_class_on_claims_and_campaigns_to_all_but_its_class(app, client, login, public):
    from datetime import timedelta

    from campaigns import services as campaigns
    from maps.area import BBox
    from timeutil import utcnow

    organiser = make_organiser(name="Orla Organiser")
    teacher, team, (child,) = make_school_class(None, CHILD, team_name="Hillside Year 5", public=public)
    campaign = campaigns.create_campaign(
        db.session, actor=organiser, title="Fix the Old City", why="Everyone walks through here.",
        area=BBox(min_lon=-2.60, min_lat=51.44, max_lon=-2.57, max_lat=51.47), goal=4, categories=(),
        all_categories=("pothole", "litter", "graffiti", "other"), ends_at=utcnow() + timedelta(days=30))
    db.session.commit()
    claim = _class_team_fix(organiser, teacher, child, team)
    shown = "Hillside Year 5" if public else "a school class"

    page = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert f"{shown}: 1 fix" in page and CHILD not in page and ("Hillside" in page) == public
    [credit] = client.get(f"/api/v1/campaigns/{campaign.id}").get_json()["contributors"]["teams"]
    assert credit == {"id": team.id if public else None, "name": shown, "fixes": 1}
    login(organiser)  # an organiser who is not the class's teacher, on the claim page
    page = client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert f"for {shown}" in page and ("Hillside" in page) == public
    for insider in (teacher, child, make_user(role="admin")):
        login(insider)
        assert "for Hillside Year 5" in client.get(f"/claims/{claim.id}").get_data(as_text=True)
        assert "Hillside Year 5: 1 fix" in client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
