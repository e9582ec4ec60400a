"""The ledger pays each award exactly once, even when requests race."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from challenges import reviews
from challenges.services import ClaimNotInState
from extensions import db
from scoring import ledger
from scoring.models import LedgerEntry
from tests.factories import approve, make_claim, make_organiser, make_quest, make_team, make_user


def ledger_rows(**where):
    return db.session.scalars(select(LedgerEntry).filter_by(**where)).all()


def test_same_key_awards_once(ctx):
    user = make_user()
    first = ledger.award(db.session, key="k", amount=5, reason="r", user_id=user.id)
    second = ledger.award(db.session, key="k", amount=5, reason="r", user_id=user.id)
    db.session.commit()
    assert first is not None and second is None
    assert [row.amount for row in ledger_rows(user_id=user.id)] == [5]


def test_approval_pays_the_quest_points_to_participant_and_a_point_to_the_reviewer(ctx):
    organiser, player = make_organiser(), make_user()
    claim = make_claim(player, make_quest(organiser, points=70), submit=True)
    approve(organiser, claim)
    rows = ledger_rows(claim_id=claim.id)
    assert sorted((r.kind, r.user_id, r.team_id, r.amount) for r in rows) == [
        ("award", player.id, None, 70), ("review", organiser.id, None, 1)]


def test_team_claim_pays_the_team_and_the_member_who_took_part(ctx):
    organiser, player = make_organiser(), make_user()
    team = make_team(player)
    claim = make_claim(player, make_quest(organiser, points=40, mode="team"), team=team, submit=True)
    approve(organiser, claim)
    awards = [(r.user_id, r.team_id, r.amount) for r in ledger_rows(claim_id=claim.id, kind="award")]
    assert sorted(awards, key=str) == sorted([(None, team.id, 40), (player.id, None, 40)], key=str)


def test_second_approval_awards_nothing(ctx):
    organiser, other_organiser, player = make_organiser(), make_organiser(), make_user()
    claim = make_claim(player, make_quest(organiser), submit=True)
    approve(organiser, claim)
    try:
        approve(other_organiser, claim)
        raised = False
    except ClaimNotInState:
        db.session.rollback()
        raised = True
    assert raised
    assert len(ledger_rows(claim_id=claim.id, kind="award")) == 1


def test_rejection_and_taking_a_quest_pay_nothing(ctx):
    organiser, player = make_organiser(), make_user()
    quest = make_quest(organiser)
    claim = make_claim(player, quest, submit=True)
    reviews.review_claim(db.session, actor=organiser, claim=claim, decision="reject", reason="No evidence of the fix.")
    db.session.commit()
    make_claim(player, quest)  # a rejected claim can be tried again; taking it pays nothing
    assert ledger_rows(user_id=player.id) == []


def test_racing_ledger_inserts_on_postgresql_pay_once(pg):
    """Even without the claim's state check, the unique key alone stops a double payment."""
    player_id = make_user().id
    db.session.remove()
    barrier = threading.Barrier(8)
    ids: list[int | None] = []

    def pay() -> None:
        with pg.app_context():
            try:
                barrier.wait(timeout=10)
                ids.append(ledger.award(db.session, key="race", amount=10, reason="r", user_id=player_id))
                db.session.commit()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len([i for i in ids if i is not None]) == 1 and len(ids) == 8
    assert db.session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.user_id == player_id)) == 10
