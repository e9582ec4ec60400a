"""Badges: each rule, earned once (even when evaluations race), paid once."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select, update

from accounts.models import User
from challenges import services as challenges
from challenges.models import Claim, ClaimStatus, Review
from extensions import db
from scoring import badges
from scoring.badges import BadgeSettings, Record, badges_of, catalogue, earned_codes, evaluate, next_badges
from scoring.models import BadgeAward, LedgerEntry
from scoring.streaks import Streak
from tests.factories import approve, make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from tests.querycount import counting
from timeutil import utcnow

CATEGORIES = ("pothole", "litter", "graffiti", "other")
PAID = BadgeSettings(categories=CATEGORIES, points=10)
NO_STREAK = Streak(weeks=0, forgiven=0, best=0)
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def badge_points(app, monkeypatch):
    """The review flow's evaluations pay 10 points a badge (the test config pays none)."""
    monkeypatch.setitem(app.config, "BADGE_POINTS", 10)


def fix(organiser: User, player: User, *, category: str | None = "pothole") -> Claim:
    """One approved fix through the real review flow (which evaluates badges)."""
    problem_id = make_problem(organiser, category=category).id if category else None
    claim = make_claim(player, make_quest(organiser, problem_id=problem_id), submit=True)
    return approve(organiser, claim)


def codes(user: User) -> set[str]:
    return set(db.session.scalars(select(BadgeAward.code).where(BadgeAward.user_id == user.id)))


def badge_entries(user: User) -> list[tuple[str, int]]:
    return sorted(db.session.execute(select(LedgerEntry.idempotency_key, LedgerEntry.amount).where(
        LedgerEntry.user_id == user.id, LedgerEntry.kind == "badge")).all())


# --- the rules (pure) ----------------------------------------------------------------------

@pytest.mark.parametrize(("fixes", "expected"), [
    (0, set()), (1, {"first-fix"}), (4, {"first-fix"}), (5, {"first-fix", "five-fixes"}),
    (24, {"first-fix", "five-fixes"}), (25, {"first-fix", "five-fixes", "twenty-five-fixes"}),
    (99, {"first-fix", "five-fixes", "twenty-five-fixes"}),
    (100, {"first-fix", "five-fixes", "twenty-five-fixes", "hundred-fixes"}),
])
def test_fix_thresholds(fixes, expected):
    assert earned_codes(Record(fixes=fixes), catalogue(CATEGORIES).values(), streak=NO_STREAK) == expected


@pytest.mark.parametrize(("reviews", "expected"), [
    (9, set()), (10, {"reviewer-10"}), (49, {"reviewer-10"}), (50, {"reviewer-10", "reviewer-50"})])
def test_review_thresholds(reviews, expected):
    assert earned_codes(Record(reviews=reviews), catalogue(CATEGORIES).values(), streak=NO_STREAK) == expected


@pytest.mark.parametrize(("best", "expected"), [
    (3, set()), (4, {"streak-4"}), (11, {"streak-4"}), (12, {"streak-4", "streak-12"})])
def test_streak_thresholds_use_the_best_streak(best, expected):
    streak = Streak(weeks=0, forgiven=0, best=best)
    assert earned_codes(Record(), catalogue(CATEGORIES).values(), streak=streak) == expected


def test_category_badges_follow_the_configured_categories():
    record = Record(fixes=2, categories=frozenset({"litter", "potholes of old"}))
    assert earned_codes(record, catalogue(CATEGORIES).values(), streak=NO_STREAK) == {"first-fix", "category-litter"}
    assert "category-litter" not in earned_codes(record, catalogue(("pothole",)).values(), streak=NO_STREAK)
    assert badges.category_code("street lighting") == "category-street-lighting"


def test_campaign_badges_are_defined_but_left_to_campaigns():
    everything = Record(fixes=1000, reviews=1000, categories=frozenset(CATEGORIES))
    earned = earned_codes(everything, catalogue(CATEGORIES).values(), streak=Streak(52, 0, 52))
    for code in ("finished-together", "closer"):
        assert code in catalogue(CATEGORIES)
        assert not catalogue(CATEGORIES)[code].awarded_by_rules
        assert code not in earned


def test_every_badge_has_a_name_description_criteria_and_image():
    for badge in catalogue(CATEGORIES).values():
        assert badge.name and badge.description and badge.criteria and badge.image.endswith(".svg")
        assert len(badge.code) <= 60


def test_progress_names_the_nearest_badge_of_each_kind():
    record = Record(fixes=3, reviews=4)
    progress = next_badges(record, catalogue(CATEGORIES).values(), {"first-fix"}, streak=Streak(1, 0, 1),
                           reviewer=True)
    assert [step.text for step in progress] == [
        "2 more fixes for Five Fixes", "6 more reviews for Careful Reviewer", "3 more weeks in a row for Four-Week Streak"]
    one_more = next_badges(Record(fixes=4), catalogue(CATEGORIES).values(), {"first-fix"},
                           streak=Streak(0, 0, 0, enabled=False), reviewer=False)
    assert [step.text for step in one_more] == ["1 more fix for Five Fixes"]


# --- evaluation against the database -------------------------------------------------------

def test_first_approved_fix_earns_first_fix_and_its_category_and_pays_each_once(ctx, badge_points):
    organiser, player = make_organiser(), make_user()
    fix(organiser, player, category="litter")
    assert codes(player) == {"first-fix", "category-litter"}
    assert badge_entries(player) == [(f"badge:{player.id}:category-litter", 10), (f"badge:{player.id}:first-fix", 10)]


def test_evaluating_again_awards_and_pays_nothing_more(ctx, badge_points):
    organiser, player = make_organiser(), make_user()
    fix(organiser, player)
    before = badge_entries(player)
    assert evaluate(db.session, user_id=player.id) == []
    assert evaluate(db.session, user_id=player.id, settings=PAID) == []
    db.session.commit()
    assert badge_entries(player) == before
    assert db.session.scalar(select(func.count()).select_from(BadgeAward)
                             .where(BadgeAward.user_id == player.id)) == 2


def test_a_badge_awarded_by_code_outside_the_rules_is_held_and_paid_once(ctx, badge_points):
    player = make_user()
    first = badges.award(db.session, user_id=player.id, code="closer")
    again = badges.award(db.session, user_id=player.id, code="closer")
    db.session.commit()
    assert first is not None and again is None
    assert codes(player) == {"closer"}
    assert badge_entries(player) == [(f"badge:{player.id}:closer", 10)]
    with pytest.raises(ValueError):
        badges.award(db.session, user_id=player.id, code="no-such-badge")


def test_five_fixes_badge_comes_with_the_fifth_fix(ctx):
    organiser, player = make_organiser(), make_user()
    for _ in range(4):
        fix(organiser, player, category=None)
    assert codes(player) == {"first-fix"}
    fix(organiser, player, category=None)
    assert codes(player) == {"first-fix", "five-fixes"}


def test_each_category_earns_its_own_badge_and_quests_without_a_problem_none(ctx):
    organiser, player = make_organiser(), make_user()
    fix(organiser, player, category=None)
    assert codes(player) == {"first-fix"}
    fix(organiser, player, category="graffiti")
    fix(organiser, player, category="graffiti")
    fix(organiser, player, category="other")
    assert codes(player) == {"first-fix", "category-graffiti", "category-other"}


def test_reviewer_badge_after_ten_completed_reviews(ctx):
    organiser = make_organiser()
    players = [make_user() for _ in range(10)]
    for player in players[:9]:
        fix(organiser, player, category=None)
    assert "reviewer-10" not in codes(organiser)
    fix(organiser, players[9], category=None)
    assert "reviewer-10" in codes(organiser)


def test_team_members_who_took_part_earn_fix_badges_and_the_others_do_not(ctx):
    organiser = make_organiser()
    captain, helper, bystander = make_user(), make_user(), make_user()
    team = make_team(captain, members=(helper, bystander))
    quest = make_quest(organiser, mode="team", problem_id=make_problem(organiser, category="litter").id)
    claim = challenges.claim_quest(db.session, actor=captain, quest=quest, team_id=team.id)
    challenges.submit_evidence(db.session, actor=captain, claim=claim, evidence="Done together.",
                               members=[captain.id, helper.id])
    db.session.commit()
    approve(organiser, claim)
    assert codes(captain) == codes(helper) == {"first-fix", "category-litter"}
    assert codes(bystander) == set()


def test_streak_badges_count_weeks_of_fixes_and_reviews(ctx):
    organiser, player = make_organiser(), make_user()
    claims = [fix(organiser, player, category=None) for _ in range(4)]
    now = datetime.now(LONDON).replace(hour=12, minute=0)  # whole weeks back stay in their week across DST
    for weeks_ago, claim in zip((3, 2, 1, 0), claims):
        moment = now - timedelta(weeks=weeks_ago)
        db.session.execute(update(Claim).where(Claim.id == claim.id).values(submitted_at=moment, decided_at=moment))
        db.session.execute(update(Review).where(Review.claim_id == claim.id).values(created_at=moment))
    db.session.commit()
    assert evaluate(db.session, user_id=player.id, now=now, streaks=False) == []
    earned = evaluate(db.session, user_id=player.id, now=now)
    assert [award.code for award in earned] == ["streak-4"]
    assert [award.code for award in evaluate(db.session, user_id=organiser.id, now=now)] == ["streak-4"]
    db.session.commit()


def test_a_fix_counts_in_the_week_it_was_submitted_not_approved(ctx):
    organiser, player = make_organiser(), make_user()
    claim = fix(organiser, player, category=None)
    submitted = datetime(2026, 6, 14, 22, 30, tzinfo=timezone.utc)  # Sunday 23:30 in London
    db.session.execute(update(Claim).where(Claim.id == claim.id).values(
        submitted_at=submitted, decided_at=submitted + timedelta(days=2)))
    db.session.commit()
    record = badges.contributions(db.session, player.id, timezone="Europe/London")
    assert record.weeks == {date(2026, 6, 8)}
    assert record.fixes == 1


def test_evaluation_queries_stay_bounded_whatever_the_history(ctx):
    organiser = make_organiser()
    small, large = make_user(), make_user()
    fix(organiser, small)
    for category in ("pothole", "pothole", "litter", "graffiti", "other", "litter"):
        fix(organiser, large, category=category)
    db.session.execute(delete(BadgeAward))  # as if the badges had never been evaluated
    db.session.commit()
    statements = {}
    for person_id in (small.id, large.id):
        with counting(db.engine) as sent:
            awards = evaluate(db.session, user_id=person_id, settings=PAID)
        statements[person_id] = (len(sent), len(awards))
        with counting(db.engine) as again:
            assert evaluate(db.session, user_id=person_id, settings=PAID) == []
        assert len(again) == 2  # what they have done, what they hold
        db.session.commit()
    # Two reads, one insert for all the new badges, one ledger insert per new badge.
    assert statements[small.id] == (3 + 2, 2)
    assert statements[large.id] == (3 + 6, 6)  # first, five, and four categories


def test_badges_of_lists_earned_badges_oldest_first_and_keeps_retired_categories(ctx):
    organiser, player = make_organiser(), make_user()
    fix(organiser, player, category="litter")
    db.session.add(BadgeAward(user_id=player.id, code="category-street-lighting", awarded_at=utcnow()))
    db.session.commit()
    earned = badges_of(db.session, player.id)
    assert [e.badge.name for e in earned] == ["First Fix", "Litter Fixer", "Street Lighting Fixer"]
    assert all(e.awarded_at.tzinfo is not None for e in earned)


def test_racing_evaluations_on_postgresql_award_each_badge_once(pg):
    """Eight transactions evaluate the same person at the same instant: each badge is
    inserted once, returned to one of them, and paid once."""
    organiser, player = make_organiser(), make_user()
    quest = make_quest(organiser, problem_id=make_problem(organiser, category="litter").id)
    claim = make_claim(player, quest, submit=True)
    # Approved without the review flow, so no evaluation has run yet.
    db.session.execute(update(Claim).where(Claim.id == claim.id).values(
        status=ClaimStatus.approved.value, decided_at=utcnow()))
    db.session.commit()
    player_id = player.id
    db.session.remove()
    barrier = threading.Barrier(8)
    returned: list[str] = []
    errors: list[BaseException] = []

    def evaluate_in_thread() -> None:
        with pg.app_context():
            try:
                barrier.wait(timeout=10)
                awards = evaluate(db.session, user_id=player_id, settings=PAID)
                codes_here = [award.code for award in awards]
                db.session.commit()
                returned.extend(codes_here)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=evaluate_in_thread) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(returned) == ["category-litter", "first-fix"]
    assert dict(db.session.execute(select(BadgeAward.code, func.count()).where(BadgeAward.user_id == player_id)
                                   .group_by(BadgeAward.code)).all()) == {"category-litter": 1, "first-fix": 1}
    assert db.session.scalar(select(func.sum(LedgerEntry.amount)).where(
        LedgerEntry.user_id == player_id, LedgerEntry.kind == "badge")) == 20
