"""A child's account trying a public action gets a clear message and changes nothing;
taking and submitting quests stays allowed. Streaks stay off unless a teacher turns them on."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from accounts.models import ApiToken, Team, TeamMembership
from challenges.models import Claim, Problem, Quest, Review, Subscription
from childsafe import policy
from childsafe.policy import ChildRefused
from extensions import db
from media import services as media
from scoring.badges import evaluate
from tests.childsafe.helpers import make_class
from tests.factories import PASSWORD, approve, make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from tests.media.samples import photo_with_gps

CHILD = "Barnaby Thistlewood-Quince"
REFUSAL = "children&#39;s accounts keep everything inside their class"


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def child(ctx):
    return make_class(None, CHILD)[2][0]


REPORT = {"title": "Broken swing", "description": "The chain snapped.", "category": "other",
          "lat": "51.45", "lon": "-2.59", "address": "", "checked_nearby": "1"}


@pytest.mark.parametrize("method, url, data, model", [
    ("get", "/problems/new", None, Problem),
    ("post", "/problems/new", REPORT, Problem),
    ("get", "/follow", None, Subscription),
    ("post", "/follow", {"area-lat": "51.45", "area-lon": "-2.59", "area-radius_m": "500",
                         "area-delivery": "immediate", "area-submit": "Follow"}, Subscription),
    ("post", "/follow", {"cat-category": "pothole", "cat-delivery": "immediate", "cat-submit": "Follow"}, Subscription),
    ("get", "/teams/new", None, Team),
    ("post", "/teams/new", {"name": "My own gang"}, Team),
    ("get", "/quests/new", None, Quest),
])
def test_public_web_actions_are_refused_with_a_message(client, login, child, method, url, data, model):
    before = count(model)
    login(child)
    response = getattr(client, method)(url, **({"data": data} if data else {}))
    assert response.status_code == 403
    assert REFUSAL in response.get_data(as_text=True)
    assert count(model) == before


def test_a_child_cannot_post_a_public_update(client, login, child):
    problem = make_problem(make_user())
    login(child)
    response = client.post(f"/problems/{problem.id}/comments", data={"body": "Hello from me"})
    assert response.status_code == 403 and REFUSAL in response.get_data(as_text=True)
    assert len(db.session.get(Problem, problem.id).updates) == 1


def test_a_child_cannot_show_themselves_on_public_boards(client, login, child):
    login(child)
    response = client.post("/me/leaderboard-visibility", data={"hidden": "0"})
    assert response.status_code == 403
    db.session.expire_all()
    assert child.hidden_from_boards is True


def test_a_child_gets_no_api_token(client, child):
    response = client.post("/api/v1/tokens", json={"email": child.email, "password": PASSWORD})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "child_account"
    assert count(ApiToken) == 0


def test_a_child_joins_no_other_team_not_even_one_an_organiser_runs(client, login, child):
    """Found in review: a pupil could join any organiser's team by its code, and that
    organiser then counted as their teacher (and its adults could see them)."""
    outsiders, organisers = make_team(make_user()), make_team(make_organiser(), members=(make_user(),))
    before = count(TeamMembership)
    login(child)
    for team in (outsiders, organisers):
        response = client.post("/teams/join", data={"code": team.join_code})
        assert response.status_code == 403 and "in your class" in response.get_data(as_text=True)
    assert count(TeamMembership) == before


def test_a_child_reviews_nobody(client, login, child):
    claim = make_claim(make_user(), make_quest(make_organiser(), review_mode="peer"), submit=True)
    with pytest.raises(ChildRefused):
        from challenges import reviews

        reviews.review_claim(db.session, actor=child, claim=claim, decision="approve")
    db.session.rollback()
    assert count(Review) == 0


def test_a_child_adds_no_public_photo(app, child):
    problem = make_problem(make_user())
    with pytest.raises(ChildRefused):
        media.save_photo(db.session, storage=app.extensions["fixquest.storage"], actor=child,
                         data=photo_with_gps(), problem_id=problem.id, max_bytes=10**7, max_pixels=10**8)


def test_a_child_still_takes_and_submits_quests_and_confirms_problems(client, login, child):
    quest = make_quest(make_organiser())
    problem = make_problem(make_user())
    login(child)
    assert client.post(f"/quests/{quest.id}/claim", data={}).status_code == 302
    claim = db.session.scalar(select(Claim))
    assert client.post(f"/claims/{claim.id}/submit", data={"evidence": "Done it"},
                       content_type="multipart/form-data").status_code == 302
    assert client.post(f"/problems/{problem.id}/confirm", data={}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == "submitted"
    assert db.session.get(Problem, problem.id).confirmations_count == 1


def _four_week_streak(teacher, player):
    claims = []
    for _ in range(4):
        claim = make_claim(player, make_quest(teacher), submit=True)
        claims.append(approve(teacher, claim))
    now = datetime.now(ZoneInfo("Europe/London")).replace(hour=12, minute=0)
    for weeks_ago, claim in zip((3, 2, 1, 0), claims):
        moment = now - timedelta(weeks=weeks_ago)
        db.session.execute(update(Claim).where(Claim.id == claim.id).values(submitted_at=moment, decided_at=moment))
        db.session.execute(update(Review).where(Review.claim_id == claim.id).values(created_at=moment))
    db.session.commit()
    return now


def test_children_win_no_streak_badges_unless_their_teacher_turns_streaks_on(ctx, monkeypatch):
    teacher, team, (pupil,) = make_class(None, CHILD)
    from childsafe.models import ModerationHold

    now = _four_week_streak(teacher, pupil)
    assert count(ModerationHold) == 4  # each was held, and the teacher (who may) approved it anyway
    assert [a.code for a in evaluate(db.session, user_id=pupil.id, now=now)] == []
    monkeypatch.setattr(policy, "child_settings", lambda session, user_id: policy.ChildSettings(streaks=True))
    assert [a.code for a in evaluate(db.session, user_id=pupil.id, now=now)] == ["streak-4"]


def test_a_child_is_never_made_an_organiser_or_a_captain(client, login, child):
    teacher = db.session.get(Team, db.session.scalar(select(TeamMembership.team_id).where(
        TeamMembership.user_id == child.id))).captain
    admin = make_user(role="admin")
    login(admin)
    client.post(f"/admin/users/{child.id}/role", data={f"u{child.id}-role": "organiser"})
    login(teacher)
    team_id = db.session.scalar(select(TeamMembership.team_id).where(TeamMembership.user_id == child.id))
    client.post(f"/teams/{team_id}/captain", data={"new_captain_id": str(child.id)})
    db.session.expire_all()
    assert child.role == "participant"
    assert db.session.get(Team, team_id).captain_id == teacher.id
