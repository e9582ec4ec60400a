"""`flask --app app demo`: the demo town loads through the services and loads once."""
from __future__ import annotations

import math
import re
from datetime import timedelta

from sqlalchemy import func, select

from accounts.models import Team, TeamMembership, User
from accounts.services import authenticate
from challenges.models import Claim, ClaimMember, Problem, ProblemUpdate, Quest, Review
from childsafe.models import ModerationHold
from demo import CLAIMS, CLASS, DEMO_CENTRE, DEMO_PASSWORD, DEMO_RADIUS_KM, PEOPLE, TEAMS
from extensions import db
from scoring.models import LedgerEntry
from timeutil import utcnow

COUNTED = (User, Team, TeamMembership, Problem, ProblemUpdate, Quest, Claim, Review, LedgerEntry)


def run_demo(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert result.exception is None
    assert "error" not in result.output.lower() and "traceback" not in result.output.lower()
    return result.output


def counts(app) -> dict[str, int]:
    with app.app_context():
        found = {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in COUNTED}
        db.session.remove()
    return found


def ledger(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(select(LedgerEntry.idempotency_key, LedgerEntry.user_id, LedgerEntry.team_id,
                                         LedgerEntry.amount).order_by(LedgerEntry.id)).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def test_demo_loads_a_living_town(app, runner):
    run_demo(runner)
    found = counts(app)
    assert found["Problem"] >= 30
    assert found["Quest"] == 10
    assert found["Team"] == 3 + 1  # and the school class's team
    assert found["User"] == len(PEOPLE) + CLASS[2]
    with app.app_context():
        board = app.extensions["fixquest.leaderboard"]
        assert board.top("participants", limit=10)
        assert len(board.top("teams", limit=10)) == 3  # the class stays off public boards by default
        assert set(db.session.scalars(select(Problem.category))) == set(app.config["CATEGORIES"])
        assert set(db.session.scalars(select(Problem.status))) == {"open", "confirmed", "in_progress",
                                                                   "fixed", "closed"}
        assert set(db.session.scalars(select(Claim.status))) == {"taken", "submitted", "approved", "rejected"}
        quests = db.session.scalars(select(Quest)).all()
        assert {q.mode for q in quests} == {"solo", "team"}
        assert {q.difficulty for q in quests} == {"easy", "medium", "hard"}
        assert sum(q.problem_id is not None for q in quests) >= 5
        soon = [q for q in quests if q.ends_at is not None and q.ends_at - utcnow() < timedelta(hours=24)]
        assert soon, "some quests close within hours, so countdowns show"
        db.session.remove()


def test_running_demo_twice_changes_nothing(app, runner):
    run_demo(runner)
    before, paid = counts(app), ledger(app)
    output = run_demo(runner)
    assert counts(app) == before
    assert ledger(app) == paid
    assert "Nothing to do" in output


def test_demo_tops_up_what_is_missing(app, runner):
    run_demo(runner)
    before = counts(app)
    with app.app_context():
        quest = db.session.scalars(select(Quest).where(Quest.problem_id.is_(None))).first()
        claims = db.session.scalars(select(Claim).where(Claim.quest_id == quest.id)).all()
        assert all(c.status == "approved" for c in claims)
        for claim in claims:
            db.session.execute(LedgerEntry.__table__.delete().where(LedgerEntry.claim_id == claim.id))
            db.session.execute(Review.__table__.delete().where(Review.claim_id == claim.id))
            db.session.execute(ClaimMember.__table__.delete().where(ClaimMember.claim_id == claim.id))
            db.session.delete(claim)
        db.session.delete(quest)
        db.session.commit()
        db.session.remove()
    run_demo(runner)
    assert counts(app) == before


def test_demo_problems_lie_around_the_town_centre(app, runner):
    run_demo(runner)
    with app.app_context():
        places = db.session.execute(select(Problem.lat, Problem.lon)).all()
        db.session.remove()
    assert all(km_between(DEMO_CENTRE, (lat, lon)) <= DEMO_RADIUS_KM for lat, lon in places)


def test_demo_problem_history_ends_at_its_status(app, runner):
    run_demo(runner)
    with app.app_context():
        for problem in db.session.scalars(select(Problem)):
            history = db.session.scalars(select(ProblemUpdate).where(ProblemUpdate.problem_id == problem.id)
                                         .order_by(ProblemUpdate.id)).all()
            assert history[0].kind == "reported"
            assert history[-1].new_status == problem.status
            assert [u.created_at for u in history] == sorted(u.created_at for u in history)
        db.session.remove()


def test_demo_logins_share_the_printed_password(app, runner):
    output = run_demo(runner)
    assert DEMO_PASSWORD in output
    with app.app_context():
        for person in PEOPLE:
            assert person.email in output
            user = authenticate(db.session, email=person.email, password=DEMO_PASSWORD)
            assert user.role == person.role
        db.session.remove()


def test_class_members_have_pseudonyms_not_emails(app, runner):
    run_demo(runner)
    classes = {plan.name: plan.members for plan in TEAMS if "Class" in plan.name}
    pupils = {key for members in classes.values() for key in members}
    names = {p.key: p.display_name for p in PEOPLE}
    assert pupils
    for key in pupils:
        assert "@" not in names[key] and len(names[key].split()) == 2


def test_the_school_class_has_children_with_cards_and_nothing_public(app, runner, client):
    output = run_demo(runner)
    with app.app_context():
        children = db.session.scalars(select(User).where(User.is_child.is_(True))).all()
        assert len(children) == CLASS[2] and all(child.email is None for child in children)
        cards = re.findall(r"card (.+?) +password (\S+)", output)
        assert sorted(name for name, _ in cards) == sorted(child.display_name for child in children)
        held = db.session.scalar(select(func.count()).select_from(ModerationHold).where(ModerationHold.state == "pending"))
        assert held == 1  # one piece of pupils' work waits for the teacher
        db.session.remove()
    for page in ("/leaderboards?board=participants&window=all", "/campaigns", "/quests", "/problems", "/teams"):
        html = client.get(page).get_data(as_text=True)
        assert not [child.display_name for child in children if child.display_name in html], page
    name, password = cards[0]
    code = re.search(r"class code (\w+)", output).group(1)
    assert client.post("/classes/login", data={"code": code, "card_name": name, "password": password}).status_code == 302


def test_demo_payments_match_the_approved_claims(app, runner):
    run_demo(runner)
    approved = sum(1 for plan in CLAIMS if plan.outcome == "approved")
    decided = sum(1 for plan in CLAIMS if plan.outcome in ("approved", "rejected"))
    keys = [key for key, *_ in ledger(app)]
    paid_claims = {key.split(":")[1] for key in keys if key.startswith("claim:")}
    assert len(paid_claims) == approved  # every approved claim paid, nothing else
    assert len([key for key in keys if key.startswith("review:")]) == decided  # one point per review


def test_demo_refuses_to_run_in_production(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "FIXQUEST_ENV", "production")
    result = runner.invoke(args=["demo"])
    assert result.exit_code != 0
    assert "production" in result.output
    assert counts(app)["User"] == 0


def test_demo_neighbours_confirm_problems_once(app, runner):
    from challenges.models import Confirmation

    run_demo(runner)
    with app.app_context():
        first = db.session.scalar(select(func.count()).select_from(Confirmation))
        busiest = db.session.scalar(select(func.max(Problem.confirmations_count)))
        db.session.remove()
    run_demo(runner)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Confirmation)) == first
        db.session.remove()
    assert first > 20 and busiest >= 3
