"""The scoring engine through the review flow: multipliers, reviewers' points, peer review,
team splits, dynamic values, reversals, and exactly-once under a 50-way race."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from accounts.models import User
from challenges import reviews, services
from challenges.models import Claim
from challenges.services import ClaimNotInState
from errors import Forbidden, ValidationFailed
from extensions import db
from scoring import ledger
from scoring.models import LedgerEntry
from scoring.rules import ScoringSettings
from tests.conftest import PG_URL, app_config, create_app, wipe
from tests.factories import approve, make_claim, make_organiser, make_quest, make_team, make_user


def points_of(user) -> int:
    """Points from quests and reviews (badges pay their own points; tests/test_badges.py)."""
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                                 .where(LedgerEntry.user_id == user.id, LedgerEntry.kind != "badge")))


def team_points(team) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                                 .where(LedgerEntry.team_id == team.id)))


def give_points(user, amount: int) -> None:
    ledger.award(db.session, key=f"bonus:{user.id}:{amount}", amount=amount, reason="test", user_id=user.id,
                 kind="bonus")
    db.session.commit()


def test_hard_quests_pay_double(ctx):
    organiser, player = make_organiser(), make_user()
    approve(organiser, make_claim(player, make_quest(organiser, points=60, difficulty="hard"), submit=True))
    approve(organiser, make_claim(player, make_quest(organiser, points=25, difficulty="medium"), submit=True))
    assert points_of(player) == 120 + 38


def test_taking_or_submitting_a_quest_or_a_rejection_earns_nothing(ctx):
    organiser, player = make_organiser(), make_user()
    claim = make_claim(player, make_quest(organiser), submit=True)
    assert points_of(player) == 0
    reviews.review_claim(db.session, actor=organiser, claim=claim, decision="reject", reason="Not done yet")
    db.session.commit()
    assert points_of(player) == 0 and points_of(organiser) == 1  # the review itself counts


def test_equal_split_shares_a_team_award_among_those_who_took_part(ctx):
    organiser, a, b, c = make_organiser(), make_user(), make_user(), make_user()
    team = make_team(a, members=(b, c))
    claim = services.claim_quest(db.session, actor=a, quest=make_quest(organiser, points=100, mode="team"),
                                 team_id=team.id)
    services.submit_evidence(db.session, actor=a, claim=claim, evidence="done", members=[a.id, b.id, c.id])
    db.session.commit()
    reviews.review_claim(db.session, actor=organiser, claim=claim, decision="approve",
                         settings=ScoringSettings(team_split="equal"))
    db.session.commit()
    assert (points_of(a), points_of(b), points_of(c), team_points(team)) == (34, 33, 33, 100)


def test_members_who_took_part_must_be_in_the_team(ctx):
    organiser, a, outsider = make_organiser(), make_user(), make_user()
    team = make_team(a)
    claim = services.claim_quest(db.session, actor=a, quest=make_quest(organiser, mode="team"), team_id=team.id)
    with pytest.raises(ValidationFailed) as error:
        services.submit_evidence(db.session, actor=a, claim=claim, evidence="done", members=[a.id, outsider.id])
    assert "members" in error.value.fields


def peer_quest(organiser, needed=2, **kw):
    return make_quest(organiser, review_mode="peer", peer_reviews_needed=needed, **kw)


def test_peer_review_approves_when_enough_peers_agree(ctx):
    organiser, player = make_organiser(), make_user()
    peers = [make_user() for _ in range(2)]
    for peer in peers:
        give_points(peer, 500)  # level 3: eligible (level 2 is enough by default)
    claim = make_claim(player, peer_quest(organiser, points=40), submit=True)
    reviews.review_claim(db.session, actor=peers[0], claim=claim, decision="approve")
    db.session.commit()
    assert claim.status == "submitted" and points_of(player) == 0
    with pytest.raises(reviews.AlreadyReviewed):
        reviews.review_claim(db.session, actor=peers[0], claim=claim, decision="approve")
    db.session.rollback()
    reviews.review_claim(db.session, actor=peers[1], claim=claim, decision="approve")
    db.session.commit()
    assert db.session.get(Claim, claim.id).status == "approved" and points_of(player) == 40
    assert points_of(peers[0]) == 501 and points_of(peers[1]) == 501


def test_peer_review_rejects_on_a_majority_of_rejections(ctx):
    organiser, player = make_organiser(), make_user()
    peers = [make_user() for _ in range(2)]
    for peer in peers:
        give_points(peer, 500)
    claim = make_claim(player, peer_quest(organiser, needed=3), submit=True)
    for peer in peers:
        reviews.review_claim(db.session, actor=peer, claim=claim, decision="reject", reason="No photo")
        db.session.commit()
    assert db.session.get(Claim, claim.id).status == "rejected"


def test_peer_reviewers_need_the_level_and_no_ties_to_the_claim(ctx):
    organiser, player, novice, teammate = make_organiser(), make_user(), make_user(), make_user()
    team = make_team(player, members=(teammate,))
    give_points(teammate, 500)
    solo_claim = make_claim(player, peer_quest(organiser), submit=True)
    team_claim = make_claim(player, peer_quest(organiser, mode="team"), team=team, submit=True)
    with pytest.raises(Forbidden):
        reviews.review_claim(db.session, actor=novice, claim=solo_claim, decision="approve")  # level 1
    with pytest.raises(Forbidden):
        reviews.review_claim(db.session, actor=teammate, claim=team_claim, decision="approve")  # own team
    organiser_quest_claim = make_claim(make_user(), make_quest(organiser), submit=True)
    with pytest.raises(Forbidden):
        reviews.review_claim(db.session, actor=teammate, claim=organiser_quest_claim, decision="approve")
    assert reviews.review_queue(db.session, teammate) == [solo_claim]
    assert reviews.review_queue(db.session, novice) == []


def test_organisers_can_always_decide_a_peer_reviewed_claim(ctx):
    organiser, player = make_organiser(), make_user()
    claim = make_claim(player, peer_quest(organiser, points=30), submit=True)
    approve(organiser, claim)
    assert points_of(player) == 30


def test_dynamic_value_falls_and_earlier_solvers_are_rescored(ctx):
    organiser = make_organiser()
    quest = make_quest(organiser, points=500, mode="team", dynamic_min_points=100, dynamic_decay=2)
    teams = [make_team(make_user()) for _ in range(3)]
    for team in teams:
        captain = db.session.get(User, team.captain_id)
        approve(organiser, make_claim(captain, quest, team=team, submit=True))
    # 1 solve: 500; 2 solves: 500 - 400 * 1/4 = 400; 3 solves: 500 - 400 * 4/4 = 100
    assert [team_points(team) for team in teams] == [100, 100, 100]
    rescores = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "rescore"))
    assert rescores > 0


def test_reversal_names_the_entries_it_undoes_and_totals_return_to_zero(ctx):
    organiser, player = make_organiser(), make_user()
    team = make_team(player)
    claim = make_claim(player, make_quest(organiser, points=50, mode="team"), team=team, submit=True)
    approve(organiser, claim)
    with pytest.raises(Forbidden):
        reviews.reverse_claim(db.session, actor=player, claim=claim, reason="fraud")
    with pytest.raises(ValidationFailed):
        reviews.reverse_claim(db.session, actor=organiser, claim=claim, reason=" ")
    reviews.reverse_claim(db.session, actor=organiser, claim=claim, reason="Photo was from another street")
    db.session.commit()
    assert (points_of(player), team_points(team)) == (0, 0)
    reversals = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "reversal")).all()
    originals = {e.id for e in db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "award"))}
    assert {r.reverses_id for r in reversals} == originals
    assert db.session.get(Claim, claim.id).status == "reversed"
    with pytest.raises(ClaimNotInState):
        reviews.reverse_claim(db.session, actor=organiser, claim=claim, reason="again")


def test_reviewing_a_claim_that_is_not_submitted_changes_nothing(ctx):
    organiser, player = make_organiser(), make_user()
    claim = make_claim(player, make_quest(organiser))  # taken, not submitted
    with pytest.raises(ClaimNotInState):
        reviews.review_claim(db.session, actor=organiser, claim=claim, decision="approve")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 0


@pytest.fixture
def race_app(pg_app, database_url):
    """A PostgreSQL app whose pool holds a connection for every racing thread."""
    url = database_url if database_url.startswith("postgresql") else PG_URL
    config = app_config(url, None)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 55, "max_overflow": 0, "pool_pre_ping": True}
    app = create_app(config)
    yield app
    with app.app_context():
        db.engine.dispose()
    wipe(app)


def test_fifty_concurrent_approvals_pay_once(race_app):
    with race_app.app_context():
        organisers = [make_organiser() for _ in range(50)]
        player = make_user()
        claim = make_claim(player, make_quest(organisers[0], points=30), submit=True)
        claim_id, player_id, organiser_ids = claim.id, player.id, [o.id for o in organisers]
        db.session.remove()
    barrier = threading.Barrier(len(organiser_ids))
    outcomes: list[str] = []

    def approve_in_thread(organiser_id: int) -> None:
        with race_app.app_context():
            try:
                reviewer = db.session.get(User, organiser_id)
                racing_claim = db.session.get(Claim, claim_id)
                db.session.commit()  # hand the connection back while waiting
                barrier.wait(timeout=30)
                reviews.review_claim(db.session, actor=reviewer, claim=racing_claim, decision="approve")
                db.session.commit()
                outcomes.append("approved")
            except ClaimNotInState:
                db.session.rollback()
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve_in_thread, args=(oid,)) for oid in organiser_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["approved"] + ["conflict"] * 49
    with race_app.app_context():
        awards = db.session.scalars(select(LedgerEntry).where(LedgerEntry.claim_id == claim_id,
                                                              LedgerEntry.kind == "award")).all()
        assert [(a.user_id, a.amount) for a in awards] == [(player_id, 30)]
        reviewer_points = db.session.scalar(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.kind == "review"))
        assert reviewer_points == 1  # only the review that decided it was completed
        db.session.remove()


# --- through the pages and the API ---------------------------------------------------------

QUEST_FORM = {"title": "Paint over the tags", "brief": "Make the underpass welcoming.", "points": "80",
              "difficulty": "hard", "mode": "solo", "evidence_wanted": "Before and after.", "starts_at": "",
              "ends_at": "", "problem_id": "0"}


def test_organiser_makes_a_peer_reviewed_quest_and_bad_settings_are_explained(client, login):
    login(make_organiser())
    bad = client.post("/quests/new", data={**QUEST_FORM, "review_mode": "peer", "peer_reviews_needed": "50",
                                           "dynamic_min_points": "90", "dynamic_decay": "5"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'id="peer_reviews_needed-error"' in page and 'id="dynamic_min_points-error"' in page
    client.post("/quests/new", data={**QUEST_FORM, "review_mode": "peer", "peer_reviews_needed": "3"})
    from challenges.models import Quest
    quest = db.session.scalar(select(Quest))
    assert (quest.review_mode, quest.peer_reviews_needed) == ("peer", 3)


def test_team_evidence_names_who_took_part(client, login):
    organiser, captain, helper, bystander = make_organiser(), make_user(), make_user(name="Helpful Hen"), make_user()
    team = make_team(captain, members=(helper, bystander))
    claim = make_claim(captain, make_quest(organiser, points=20, mode="team"), team=team)
    login(captain)
    assert "Helpful Hen" in client.get(f"/claims/{claim.id}").get_data(as_text=True)
    client.post(f"/claims/{claim.id}/submit", data={"evidence": "Done together", "members": [captain.id, helper.id]})
    approve(organiser, db.session.get(Claim, claim.id))
    assert (points_of(captain), points_of(helper), points_of(bystander)) == (20, 20, 0)


def test_organiser_reverses_an_approved_claim_in_the_page(client, login):
    organiser, player = make_organiser(), make_user()
    claim = make_claim(player, make_quest(organiser, points=25), submit=True)
    approve(organiser, claim)
    login(player)
    assert client.post(f"/claims/{claim.id}/reverse", data={"reason": "mine"}).status_code == 403
    login(organiser)
    assert "Reverse this approval" in client.get(f"/claims/{claim.id}").get_data(as_text=True)
    client.post(f"/claims/{claim.id}/reverse", data={"reason": "Photo was taken elsewhere"})
    db.session.expire_all()
    assert points_of(player) == 0 and db.session.get(Claim, claim.id).status == "reversed"


def test_peer_reviewers_use_the_review_queue_once_they_reach_the_level(client, login):
    organiser, player, peer = make_organiser(), make_user(), make_user()
    claim = make_claim(player, peer_quest(organiser, needed=1, points=10), submit=True)
    login(peer)
    assert client.get("/review").status_code == 403
    assert client.get(f"/claims/{claim.id}").status_code == 404
    give_points(peer, 150)
    assert "Paint" not in client.get("/review").get_data(as_text=True)
    assert claim.quest.title in client.get("/review").get_data(as_text=True)
    client.post(f"/claims/{claim.id}/review", data={"decision": "approve"})
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == "approved" and points_of(player) == 10


def test_api_quests_carry_review_settings_and_claims_can_be_reversed(client):
    from tests.api import auth, error_of
    organiser, player = make_organiser(), make_user()
    created = client.post("/api/v1/quests", headers=auth(organiser), json={
        "title": "Sweep the steps", "brief": "Leaves make them slippery.", "points": 30, "difficulty": "easy",
        "mode": "solo", "evidence_wanted": "A note", "review_mode": "peer", "peer_reviews_needed": 2})
    assert created.status_code == 201 and created.get_json()["review_mode"] == "peer"
    bad = client.post("/api/v1/quests", headers=auth(organiser), json={
        "title": "Sweep the steps", "brief": "b", "points": 30, "difficulty": "easy", "mode": "solo",
        "evidence_wanted": "A note", "dynamic_min_points": 10})
    assert bad.status_code == 422 and "dynamic_min_points" in error_of(bad)["fields"]
    claim = make_claim(player, make_quest(organiser, points=40), submit=True)
    approve(organiser, claim)
    assert client.post(f"/api/v1/claims/{claim.id}/reverse", headers=auth(player), json={"reason": "x"}).status_code == 403
    reversed_ = client.post(f"/api/v1/claims/{claim.id}/reverse", headers=auth(organiser), json={"reason": "fake"})
    assert reversed_.status_code == 200 and reversed_.get_json()["status"] == "reversed"
    assert points_of(player) == 0


# --- levels unlock proposing quests --------------------------------------------------------

def test_experienced_players_propose_quests_that_organisers_publish(client, login):
    organiser, novice, veteran = make_organiser(), make_user(), make_user()
    login(novice)
    assert client.post("/quests/new", data=QUEST_FORM).status_code == 403
    give_points(veteran, 1600)  # level 5
    login(veteran)
    assert client.post("/quests/new", data=QUEST_FORM).status_code == 302
    from challenges.models import Quest
    quest = db.session.scalar(select(Quest))
    assert quest.status == "proposed"
    assert "Paint over the tags" not in client.get("/quests").get_data(as_text=True)
    assert client.get(f"/quests/{quest.id}").status_code == 200  # the proposer sees it
    login(novice)
    assert client.get(f"/quests/{quest.id}").status_code == 404
    with pytest.raises(services.QuestNotPublished):
        services.claim_quest(db.session, actor=novice, quest=quest)
    login(organiser)
    assert "Paint over the tags" in client.get("/quests/proposed").get_data(as_text=True)
    client.post(f"/quests/{quest.id}/publish", data={})
    login(novice)
    assert "Paint over the tags" in client.get("/quests").get_data(as_text=True)


def test_api_proposals_are_hidden_until_published(client):
    from tests.api import auth
    organiser, veteran, stranger = make_organiser(), make_user(), make_user()
    give_points(veteran, 1600)
    body = {"title": "Wash the bench", "brief": "Sticky", "points": 20, "difficulty": "easy", "mode": "solo",
            "evidence_wanted": "A note"}
    created = client.post("/api/v1/quests", headers=auth(veteran), json=body).get_json()
    assert created["status"] == "proposed"
    assert client.get(f"/api/v1/quests/{created['id']}").status_code == 404
    assert client.get(f"/api/v1/quests/{created['id']}", headers=auth(stranger)).status_code == 404
    assert client.get(f"/api/v1/quests/{created['id']}", headers=auth(veteran)).status_code == 200
    assert client.post(f"/api/v1/quests/{created['id']}/publish", headers=auth(veteran)).status_code == 403
    assert client.post(f"/api/v1/quests/{created['id']}/publish", headers=auth(organiser)).get_json()["status"] == "published"
    assert client.get(f"/api/v1/quests/{created['id']}").status_code == 200
