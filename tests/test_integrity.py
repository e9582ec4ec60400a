"""Anti-cheating: one payout per fix cycle of a problem, and alerts on bursts of approvals."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from challenges import reviews
from challenges.services import change_status
from errors import Forbidden
from extensions import db
from integrity import rules, services
from integrity.models import IntegrityAlert
from scoring import ledger
from scoring.rules import ScoringSettings
from tests.factories import make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from timeutil import utcnow

T0 = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
MONTH = timedelta(days=30)


# --- pure rules ----------------------------------------------------------------------------

def test_a_first_fix_pays():
    assert rules.repeat_fix_pays(last_paid_fix_at=None, reopened_at=None, now=T0, cooldown=MONTH)


def test_a_refix_after_reopening_within_the_cooldown_pays_nothing():
    assert not rules.repeat_fix_pays(last_paid_fix_at=T0, reopened_at=T0 + timedelta(hours=1),
                                     now=T0 + timedelta(days=29, hours=23), cooldown=MONTH)


def test_a_refix_once_the_cooldown_has_passed_starts_a_new_cycle():
    assert rules.repeat_fix_pays(last_paid_fix_at=T0, reopened_at=T0 + timedelta(hours=1), now=T0 + MONTH,
                                 cooldown=MONTH)


def test_several_solvers_of_a_problem_never_reopened_all_pay():
    assert rules.repeat_fix_pays(last_paid_fix_at=T0, reopened_at=None, now=T0 + timedelta(hours=1), cooldown=MONTH)
    assert rules.repeat_fix_pays(last_paid_fix_at=T0, reopened_at=T0 - timedelta(days=1),
                                 now=T0 + timedelta(hours=1), cooldown=MONTH)


def test_a_burst_is_more_than_the_limit_inside_the_window():
    times = [T0 - timedelta(hours=h) for h in (1, 2, 3)]
    assert rules.is_burst(times, now=T0, window=timedelta(hours=24), limit=2)
    assert not rules.is_burst(times, now=T0, window=timedelta(hours=24), limit=3)
    assert not rules.is_burst(times, now=T0 + timedelta(hours=22, minutes=30), window=timedelta(hours=24), limit=2)


def test_the_unpaid_note_says_why():
    note = rules.unpaid_reason(T0, MONTH)
    assert "No points" in note and "2026-03-01" in note and "30-day cool-down" in note


# --- one payout per fix cycle --------------------------------------------------------------

def _fix(organiser, problem, fixer, at, settings=None):
    quest = make_quest(organiser, problem_id=problem.id, ends_at=utcnow() + timedelta(days=400))
    claim = make_claim(fixer, quest, submit=True)
    reviews.review_claim(db.session, actor=organiser, claim=claim, decision="approve", now=at,
                         settings=settings or ScoringSettings(reviewer_points=0))
    db.session.commit()
    return claim


def _set_status(organiser, problem, status, at):
    change_status(db.session, actor=organiser, problem=problem, status=status, now=at)
    db.session.commit()


def test_reopening_and_refixing_a_problem_within_the_cooldown_pays_nothing_more(ctx):
    organiser, fixer, reporter = make_organiser(), make_user(), make_user()
    problem = make_problem(reporter)
    now = utcnow()
    first = _fix(organiser, problem, fixer, now)
    _set_status(organiser, problem, "fixed", now + timedelta(minutes=1))
    _set_status(organiser, problem, "open", now + timedelta(days=1))
    again = _fix(organiser, problem, fixer, now + timedelta(days=2))
    assert first.unpaid_reason is None and again.status == "approved"
    assert "No points" in again.unpaid_reason and "30-day cool-down" in again.unpaid_reason
    assert ledger.lifetime_points(db.session, fixer.id) == 50


def test_after_the_cooldown_a_new_fix_cycle_pays(ctx):
    organiser, fixer, reporter = make_organiser(), make_user(), make_user()
    problem = make_problem(reporter)
    now = utcnow()
    _fix(organiser, problem, fixer, now)
    _set_status(organiser, problem, "fixed", now + timedelta(minutes=1))
    _set_status(organiser, problem, "open", now + timedelta(days=1))
    unpaid = _fix(organiser, problem, make_user(), now + timedelta(days=2))  # inside: nothing, whoever fixes it
    _set_status(organiser, problem, "closed", now + timedelta(days=3))
    _set_status(organiser, problem, "open", now + timedelta(days=31))
    later = _fix(organiser, problem, fixer, now + timedelta(days=31, hours=1))
    assert unpaid.unpaid_reason and later.unpaid_reason is None
    assert ledger.lifetime_points(db.session, fixer.id) == 100
    assert ledger.lifetime_points(db.session, unpaid.user_id) == 0


def test_the_cooldown_is_configurable_and_zero_turns_it_off(ctx):
    organiser, fixer, reporter = make_organiser(), make_user(), make_user()
    problem = make_problem(reporter)
    now = utcnow()
    _fix(organiser, problem, fixer, now)
    _set_status(organiser, problem, "fixed", now + timedelta(minutes=1))
    _set_status(organiser, problem, "open", now + timedelta(days=1))
    again = _fix(organiser, problem, fixer, now + timedelta(days=2),
                 settings=ScoringSettings(reviewer_points=0, fix_cooldown_days=0))
    assert again.unpaid_reason is None and ledger.lifetime_points(db.session, fixer.id) == 100


def test_the_claim_page_and_the_api_say_why_an_approved_claim_paid_nothing(app, client, login, ctx):
    organiser, fixer, reporter = make_organiser(), make_user(), make_user()
    problem = make_problem(reporter)
    now = utcnow()
    _fix(organiser, problem, fixer, now - timedelta(days=3))
    _set_status(organiser, problem, "fixed", now - timedelta(days=2))
    _set_status(organiser, problem, "open", now - timedelta(days=1))
    again = _fix(organiser, problem, fixer, now)
    login(fixer)
    page = client.get(f"/claims/{again.id}").get_data(as_text=True)
    assert "No points: this problem was already fixed" in page
    from tests.api import auth
    body = client.get(f"/api/v1/claims/{again.id}", headers=auth(fixer)).get_json()
    assert body["status"] == "approved" and body["unpaid_reason"].startswith("No points")


# --- approval bursts -----------------------------------------------------------------------

BURSTY = ScoringSettings(reviewer_points=0, burst_limit=2, burst_hours=24)


def _approve_new(reviewer, claimant, organiser, team=None):
    quest = make_quest(organiser, mode="team" if team else "solo")
    claim = make_claim(claimant, quest, team=team, submit=True)
    reviews.review_claim(db.session, actor=reviewer, claim=claim, decision="approve", settings=BURSTY)
    db.session.commit()
    return claim


def test_one_reviewer_approving_one_claimant_too_often_raises_an_alert_with_the_claims(ctx):
    reviewer, claimant, other = make_organiser(), make_user(), make_user()
    claims = [_approve_new(reviewer, claimant, reviewer) for _ in range(2)]
    _approve_new(reviewer, other, reviewer)
    assert db.session.scalars(select(IntegrityAlert)).all() == []  # two is within the limit
    claims.append(_approve_new(reviewer, claimant, reviewer))
    claims.append(_approve_new(reviewer, claimant, reviewer))
    alerts = db.session.scalars(select(IntegrityAlert)).all()
    assert len(alerts) == 1  # the fourth joins the open alert
    alert = alerts[0]
    assert (alert.kind, alert.reviewer_id, alert.claimant_id, alert.approvals) == ("pair", reviewer.id, claimant.id, 4)
    assert sorted(link.claim_id for link in alert.claims) == sorted(c.id for c in claims)


def test_members_of_two_teams_approving_each_other_raise_a_teams_alert(ctx):
    org_a, org_b, a1, b1, b2 = make_organiser(), make_organiser(), make_user(), make_user(), make_user()
    team_a = make_team(org_a, members=(a1,))
    team_b = make_team(org_b, members=(b1, b2))
    _approve_new(org_a, b1, org_a)
    _approve_new(org_a, b2, org_a)
    _approve_new(org_b, a1, org_b)
    alert = db.session.scalars(select(IntegrityAlert)).one()
    assert alert.kind == "teams" and {alert.team_a_id, alert.team_b_id} == {team_a.id, team_b.id}
    assert alert.approvals == 3 and len(alert.claims) == 3


def test_the_organise_page_lists_open_alerts_and_another_organiser_marks_one_reviewed(app, client, login, ctx):
    reviewer, claimant, colleague = make_organiser(name="Rita Reviewer"), make_user(name="Cal Claimant"), make_organiser()
    claims = [_approve_new(reviewer, claimant, reviewer) for _ in range(3)]
    alert = db.session.scalars(select(IntegrityAlert)).one()
    login(reviewer)
    page = client.get("/organise").get_data(as_text=True)
    assert "Rita Reviewer approved Cal Claimant" in page and f"/claims/{claims[0].id}" in page
    assert "another organiser reviews it" in page
    refused = client.post(f"/organise/integrity/{alert.id}/reviewed", data={})
    db.session.expire_all()
    assert refused.status_code in (302, 403) and db.session.get(IntegrityAlert, alert.id).reviewed_at is None
    login(colleague)
    client.post(f"/organise/integrity/{alert.id}/reviewed", data={})
    db.session.expire_all()
    assert db.session.get(IntegrityAlert, alert.id).reviewed_by_id == colleague.id
    assert "Rita Reviewer approved" not in client.get("/organise").get_data(as_text=True)


def test_a_reviewed_burst_is_not_raised_again_until_a_new_burst(ctx):
    reviewer, claimant, colleague = make_organiser(), make_user(), make_organiser()
    for _ in range(3):
        _approve_new(reviewer, claimant, reviewer)
    alert = db.session.scalars(select(IntegrityAlert)).one()
    services.mark_reviewed(db.session, actor=colleague, alert=alert)
    db.session.commit()
    _approve_new(reviewer, claimant, reviewer)
    assert db.session.scalars(select(IntegrityAlert).where(IntegrityAlert.reviewed_at.is_(None))).all() == []
    for _ in range(2):
        _approve_new(reviewer, claimant, reviewer)
    fresh = db.session.scalars(select(IntegrityAlert).where(IntegrityAlert.reviewed_at.is_(None))).one()
    assert fresh.id != alert.id and len(fresh.claims) == 3


def test_a_participant_cannot_mark_an_alert_reviewed(ctx):
    reviewer, claimant = make_organiser(), make_user()
    for _ in range(3):
        _approve_new(reviewer, claimant, reviewer)
    alert = db.session.scalars(select(IntegrityAlert)).one()
    with pytest.raises(Forbidden):
        services.mark_reviewed(db.session, actor=make_user(), alert=alert)
