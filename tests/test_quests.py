"""Quests, claims, evidence and review: the rules and the pages."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from challenges import reviews, services
from challenges.models import Claim, Quest
from challenges.services import AlreadyClaimed, QuestClosed, QuestNotStarted, WrongQuestMode
from errors import Forbidden
from extensions import db
from scoring.models import LedgerEntry
from tests.factories import approve, make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from timeutil import utcnow

QUEST = {"title": "Sweep the underpass", "brief": "Commuters walk through broken glass.", "points": "80",
         "difficulty": "medium", "mode": "solo", "evidence_wanted": "Before and after notes.",
         "starts_at": "", "ends_at": "", "problem_id": "0"}


def test_organiser_makes_a_quest_from_a_problem(client, login):
    organiser = make_organiser()
    problem = make_problem(organiser)
    login(organiser)
    assert f'<option selected value="{problem.id}">' in client.get(f"/quests/new?problem_id={problem.id}").get_data(as_text=True)
    response = client.post("/quests/new", data={**QUEST, "problem_id": str(problem.id), "ends_at": "2099-06-01T17:00"})
    quest = db.session.scalar(select(Quest))
    assert response.status_code == 302
    assert (quest.problem_id, quest.points, quest.difficulty) == (problem.id, 80, "medium")
    assert quest.ends_at.isoformat() == "2099-06-01T16:00:00+00:00"  # 17:00 London summer time is 16:00 UTC


def test_participants_cannot_make_quests(client, login):
    login(make_user())
    assert client.get("/quests/new").status_code == 403
    assert client.post("/quests/new", data=QUEST).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Quest)) == 0


def test_quest_form_errors_are_beside_fields(client, login):
    login(make_organiser())
    response = client.post("/quests/new", data={**QUEST, "points": "5000", "ends_at": "2001-01-01T10:00",
                                                "title": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="title-error"' in page
    assert 'id="points-error"' in page and "between 1 and 1000" in page
    response = client.post("/quests/new", data={**QUEST, "points": "lots", "ends_at": "2001-01-01T10:00"})
    page = response.get_data(as_text=True)
    assert "Enter a whole number" in page
    response = client.post("/quests/new", data={**QUEST, "ends_at": "2001-01-01T10:00"})
    assert "must be in the future" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Quest)) == 0


def test_quests_list_soonest_closing_first_with_time_left(client):
    organiser = make_organiser()
    make_quest(organiser, title="Open ended", ends_at=None)
    make_quest(organiser, title="Closes next week", ends_at=utcnow() + timedelta(days=7))
    make_quest(organiser, title="Closes tonight", ends_at=utcnow() + timedelta(hours=3))
    page = client.get("/quests").get_data(as_text=True)
    assert page.index("Closes tonight") < page.index("Closes next week") < page.index("Open ended")
    assert "h " in page and "min left" in page and "7 days left" in page or "6 days left" in page


def test_ended_quest_is_hidden_and_cannot_be_claimed(ctx):
    organiser, player = make_organiser(), make_user()
    quest = make_quest(organiser)
    with pytest.raises(QuestClosed):
        services.claim_quest(db.session, actor=player, quest=quest, now=quest.ends_at + timedelta(seconds=1))
    assert quest not in db.session.scalars(services.open_quests_select(now=quest.ends_at)).all()


def test_quest_not_yet_open_cannot_be_claimed(ctx):
    quest = make_quest(make_organiser(), starts_at=utcnow() + timedelta(days=1), ends_at=utcnow() + timedelta(days=2))
    with pytest.raises(QuestNotStarted):
        services.claim_quest(db.session, actor=make_user(), quest=quest)


def test_nobody_claims_the_same_quest_twice_while_open_or_after_approval(ctx):
    organiser, player = make_organiser(), make_user()
    quest = make_quest(organiser)
    claim = make_claim(player, quest)
    with pytest.raises(AlreadyClaimed):
        make_claim(player, quest)
    services.submit_evidence(db.session, actor=player, claim=claim, evidence="done")
    db.session.commit()
    approve(organiser, claim)
    with pytest.raises(AlreadyClaimed):
        make_claim(player, quest)


def test_database_refuses_a_second_live_claim_even_without_the_check(ctx):
    """The partial unique index, not only the friendly pre-check, guards against races."""
    from sqlalchemy.exc import IntegrityError

    quest, player = make_quest(make_organiser()), make_user()
    make_claim(player, quest)
    db.session.add(Claim(quest_id=quest.id, user_id=player.id, status="submitted"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_team_quest_needs_one_of_your_teams(ctx):
    organiser, player, stranger = make_organiser(), make_user(), make_user()
    team = make_team(player)
    team_quest, solo_quest = make_quest(organiser, mode="team"), make_quest(organiser)
    with pytest.raises(WrongQuestMode):
        services.claim_quest(db.session, actor=player, quest=team_quest)
    with pytest.raises(WrongQuestMode):
        services.claim_quest(db.session, actor=player, quest=solo_quest, team_id=team.id)
    with pytest.raises(Forbidden):
        services.claim_quest(db.session, actor=stranger, quest=team_quest, team_id=team.id)
    make_claim(player, team_quest, team=team)
    teammate = make_user()
    make_team  # noqa: B018 - teammates share the team's one live claim
    from accounts.services import join_team
    join_team(db.session, actor=teammate, code=team.join_code)
    db.session.commit()
    with pytest.raises(AlreadyClaimed):
        services.claim_quest(db.session, actor=teammate, quest=team_quest, team_id=team.id)


def test_only_the_claimant_or_their_team_submits_evidence(ctx):
    organiser, player, other = make_organiser(), make_user(), make_user()
    claim = make_claim(player, make_quest(organiser))
    with pytest.raises(Forbidden):
        services.submit_evidence(db.session, actor=other, claim=claim, evidence="I did it")


def test_no_review_of_your_own_or_your_teams_claim(ctx):
    organiser, teammate_organiser = make_organiser(), make_organiser()
    quest = make_quest(organiser, mode="team")
    team = make_team(teammate_organiser)
    own = make_claim(organiser, make_quest(teammate_organiser), submit=True)
    team_claim = make_claim(teammate_organiser, quest, team=team, submit=True)
    from accounts.services import join_team
    join_team(db.session, actor=organiser, code=team.join_code)
    db.session.commit()
    with pytest.raises(Forbidden):
        reviews.review_claim(db.session, actor=organiser, claim=own, decision="approve")
    with pytest.raises(Forbidden):
        reviews.review_claim(db.session, actor=organiser, claim=team_claim, decision="approve")
    assert reviews.review_queue(db.session, organiser) == []


def test_participants_cannot_review(client, login):
    player, other = make_user(), make_user()
    claim = make_claim(other, make_quest(make_organiser()), submit=True)
    login(player)
    assert client.get("/review").status_code == 403
    assert client.post(f"/claims/{claim.id}/review", data={"decision": "approve"}).status_code == 404
    assert client.get(f"/claims/{claim.id}").status_code == 404  # other people's claims are private
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 0


def test_rejection_needs_a_reason(client, login):
    organiser = make_organiser()
    claim = make_claim(make_user(), make_quest(organiser), submit=True)
    login(organiser)
    response = client.post(f"/claims/{claim.id}/review", data={"decision": "reject", "reason": ""})
    assert response.status_code == 422 and 'id="reason-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == "submitted"


def test_reviewing_twice_says_so(client, login):
    organiser = make_organiser()
    claim = make_claim(make_user(), make_quest(organiser), submit=True)
    login(organiser)
    client.post(f"/claims/{claim.id}/review", data={"decision": "approve"})
    response = client.post(f"/claims/{claim.id}/review", data={"decision": "approve"}, follow_redirects=True)
    assert "This claim is approved" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "award")) == 1


def test_submitting_empty_evidence_is_explained(client, login):
    player = make_user()
    claim = make_claim(player, make_quest(make_organiser()))
    login(player)
    response = client.post(f"/claims/{claim.id}/submit", data={"evidence": "   "})
    assert response.status_code == 422 and 'id="evidence-error"' in response.get_data(as_text=True)
