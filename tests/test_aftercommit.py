"""Work queued for after the commit waits for the outermost commit: a SAVEPOINT inside the
transaction (begin_nested, as kudos and flags use against races) neither hands it on early
nor, when it is rolled back, drops what the enclosing transaction queued."""
from __future__ import annotations

import aftercommit
from extensions import db
from scoring.models import LedgerEntry
from sqlalchemy import func, select
from tests.factories import approve, make_claim, make_organiser, make_problem, make_quest, make_user

SEEN: list = []


def _remember(items: list) -> None:
    SEEN.extend(items)


def test_a_savepoint_hands_nothing_on_and_its_rollback_drops_nothing(ctx):
    aftercommit.on_commit("tests.savepoints", _remember)
    SEEN.clear()
    make_user()  # a transaction has something to commit
    aftercommit.queue(db.session, "tests.savepoints", "outer work")
    with db.session.begin_nested():
        aftercommit.queue(db.session, "tests.savepoints", "inside the savepoint")
    assert SEEN == []  # the savepoint's release committed nothing yet
    savepoint = db.session.begin_nested()
    savepoint.rollback()
    db.session.commit()
    assert SEEN == ["outer work", "inside the savepoint"]


def test_an_award_and_kudos_in_one_transaction_reach_the_leaderboard(app, ctx):
    """The demo approves fixes and thanks people in one transaction; kudos use a SAVEPOINT."""
    from accounts import kudos
    from scoring.views import board_rows

    organiser, fixer, thanker = make_organiser(), make_user(name="Fiona Fixer"), make_user()
    quest = make_quest(organiser, problem_id=make_problem(make_user()).id, points=40)
    claim = make_claim(fixer, quest, submit=True)
    from challenges import reviews

    reviews.review_claim(db.session, actor=organiser, claim=claim, decision="approve", reason="")
    kudos.give_kudos(db.session, actor=thanker, claim=claim)
    db.session.commit()
    assert db.session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.user_id == fixer.id)) == 40
    assert [(row.name, row.points) for row in board_rows("participants", limit=1)] == [("Fiona Fixer", 40)]
