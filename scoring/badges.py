"""Badges: achievements earned once by a rule, paid once through the ledger.

The catalogue (`catalogue(categories)`) holds every badge: counted fixes (1, 5, 25, 100),
one per problem category (the first approved fix of a quest made from a problem in that
category; categories come from the CATEGORIES setting), counted reviews (10, 50), weekly
streaks (4 and 12 weeks, see scoring.streaks) and two campaign badges that the campaign
code awards itself (they are defined here so pages and Open Badges exports know them).

`evaluate(session, user_id=...)` is called for every credited user after an approval or a
completed review. It reads what the person has done in one query, the badges they hold in
another, decides the rest in Python (`earned_codes`, pure), inserts the new badges in one
INSERT ... ON CONFLICT DO NOTHING RETURNING, and pays each one through the ledger
(`badge:<user_id>:<code>`). The unique (user_id, code) constraint decides races: of two
transactions inserting the same badge, only the one whose insert returns the row pays,
and the ledger's idempotency key backs that up. A badge once earned stays earned, even if
a claim behind it is later reversed.

What counts as a fix is what was paid: an approved claim counts for the team members
listed as taking part (claim_members) or, when none are listed (solo claims and older
team claims), for the claimant.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import ColumnElement, and_, exists, literal, null, or_, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from challenges.models import Claim, ClaimMember, ClaimStatus, Problem, Quest, Review
from config import DEFAULT_CATEGORIES
from scoring import ledger
from scoring.models import BadgeAward
from scoring.streaks import Streak, local_week, weekly_streak
from timeutil import as_utc, utcnow

DEFAULT_BADGE_POINTS = 10

# Metrics a rule counts; campaign badges have none (awarded by the campaign code).
FIXES, REVIEWS, STREAK, CATEGORY = "fixes", "reviews", "streak", "category"


@dataclass(frozen=True)
class Badge:
    """One badge. `metric` and `threshold` are its rule; `image` is a file in
    static/badges/; `criteria` is the Open Badges criteria narrative."""

    code: str
    name: str
    description: str
    criteria: str
    image: str
    metric: str | None
    threshold: int = 1
    category: str | None = None

    @property
    def awarded_by_rules(self) -> bool:
        return self.metric is not None


_FIXED = (
    Badge("first-fix", "First Fix", "Had a first fix approved: a problem in town is better for it.",
          "Take on a quest, do the work, submit evidence, and have it approved by a reviewer.",
          "first-fix.svg", FIXES, 1),
    Badge("five-fixes", "Five Fixes", "Five fixes approved: a regular pair of hands.",
          "Have five quests approved (solo, or as a team member who took part).", "five-fixes.svg", FIXES, 5),
    Badge("twenty-five-fixes", "Twenty-Five Fixes", "Twenty-five fixes approved: the neighbourhood notices.",
          "Have twenty-five quests approved (solo, or as a team member who took part).",
          "twenty-five-fixes.svg", FIXES, 25),
    Badge("hundred-fixes", "A Hundred Fixes", "A hundred fixes approved: a local legend.",
          "Have a hundred quests approved (solo, or as a team member who took part).",
          "hundred-fixes.svg", FIXES, 100),
    Badge("reviewer-10", "Careful Reviewer", "Completed ten reviews of other people's work.",
          "Complete ten reviews of claims (approving or rejecting, with reasons when rejecting).",
          "reviewer-10.svg", REVIEWS, 10),
    Badge("reviewer-50", "Trusted Reviewer", "Completed fifty reviews of other people's work.",
          "Complete fifty reviews of claims (approving or rejecting, with reasons when rejecting).",
          "reviewer-50.svg", REVIEWS, 50),
    Badge("streak-4", "Four-Week Streak", "Contributed four weeks running.",
          "Have an approved fix or a completed review in four weeks of a streak (one missed week a "
          "month is forgiven).", "streak-4.svg", STREAK, 4),
    Badge("streak-12", "Twelve-Week Streak", "Contributed twelve weeks running.",
          "Have an approved fix or a completed review in twelve weeks of a streak (one missed week a "
          "month is forgiven).", "streak-12.svg", STREAK, 12),
    Badge("finished-together", "Finished Together", "Helped a campaign reach its goal.",
          "Contribute an approved fix to a campaign that reaches its collective goal.",
          "finished-together.svg", None),
    Badge("closer", "Closer", "Made the fix that completed a campaign.",
          "Have the approved fix that brings a campaign to its goal.", "closer.svg", None),
    Badge("jam-finisher", "Jam Finisher", "Took part in a jam and got a fix approved during it.",
          "Be in an entry of an event (a jam) that has at least one fix approved while the event runs.",
          "jam-finisher.svg", None),
    Badge("jam-podium", "Jam Podium", "Finished a jam in the top three.",
          "Be in one of the three highest-placed entries with points in an event's final results.",
          "jam-podium.svg", None),
)

_CATEGORY_NAMES = {"other": "Odd-Job Fixer"}
_SLUG = re.compile(r"[^a-z0-9]+")
CATEGORY_PREFIX = "category-"


def category_code(category: str) -> str:
    """"street lighting" -> "category-street-lighting"."""
    return CATEGORY_PREFIX + _SLUG.sub("-", category.lower()).strip("-")


def category_badge(category: str) -> Badge:
    title = _CATEGORY_NAMES.get(category, f"{category.title()} Fixer")
    return Badge(category_code(category), title, f"Fixed a first {category} problem.",
                 f"Have a fix approved on a quest made from a problem in the \u201c{category}\u201d category.",
                 "category.svg", CATEGORY, 1, category)


@lru_cache(maxsize=8)
def catalogue(categories: tuple[str, ...] = DEFAULT_CATEGORIES) -> Mapping[str, Badge]:
    """Every badge by code, in display order: fixes, categories, reviews, streaks, campaigns."""
    by_code = {b.code: b for b in _FIXED if b.metric == FIXES}
    by_code.update((b.code, b) for b in map(category_badge, categories))
    by_code.update((b.code, b) for b in _FIXED if b.metric != FIXES)
    return MappingProxyType(by_code)  # cached and shared: read-only


def badge_for(code: str, categories: tuple[str, ...] = DEFAULT_CATEGORIES) -> Badge | None:
    """The badge with `code`; a category badge whose category has since left the settings
    is still described (from its code), so earned badges always render."""
    badge = catalogue(categories).get(code)
    if badge is None and code.startswith(CATEGORY_PREFIX) and len(code) > len(CATEGORY_PREFIX):
        badge = category_badge(code[len(CATEGORY_PREFIX):].replace("-", " "))
    return badge


# --- settings ------------------------------------------------------------------------------

@dataclass(frozen=True)
class BadgeSettings:
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    points: int = DEFAULT_BADGE_POINTS
    timezone: str = "Europe/London"

    @classmethod
    def from_config(cls, config: Mapping) -> BadgeSettings:
        return cls(categories=tuple(config.get("CATEGORIES") or DEFAULT_CATEGORIES),
                   points=int(config.get("BADGE_POINTS", DEFAULT_BADGE_POINTS)),
                   timezone=config.get("TIMEZONE") or "Europe/London")


def current_settings() -> BadgeSettings:
    return BadgeSettings.from_config(current_app.config) if has_app_context() else BadgeSettings()


# --- what a person has done ----------------------------------------------------------------

@dataclass(frozen=True)
class Record:
    """What one person has done, as the badge rules see it."""

    fixes: int = 0
    reviews: int = 0
    categories: frozenset[str] = frozenset()
    weeks: frozenset[date] = frozenset()  # Mondays of active weeks


def credited_claims(user_id: int) -> ColumnElement[bool]:
    """Claims that count as this person's fixes: listed as taking part, or the claimant of
    a claim that lists nobody (how the review flow pays them)."""
    listed = select(ClaimMember.claim_id).where(ClaimMember.user_id == user_id)
    lists_anyone = exists().where(ClaimMember.claim_id == Claim.id)
    return or_(Claim.id.in_(listed), and_(Claim.user_id == user_id, ~lists_anyone))


def contributions(session: Session, user_id: int, *, timezone: str) -> Record:
    """One query: every approved fix (with its problem's category) and every completed
    review. A fix is placed in the week it was submitted, so a reviewer's backlog never
    costs anyone a week of their streak; a review in the week it was made."""
    fixes = (select(literal("fix").label("kind"), Claim.submitted_at.label("at"),
                    Claim.decided_at.label("decided"), Problem.category.label("category"))
             .select_from(Claim).join(Quest, Quest.id == Claim.quest_id)
             .outerjoin(Problem, Problem.id == Quest.problem_id)
             .where(Claim.status == ClaimStatus.approved.value, credited_claims(user_id)))
    reviews = select(literal("review"), Review.created_at, null(), null()).where(Review.reviewer_id == user_id)
    rows = session.execute(union_all(fixes, reviews)).all()
    fix_count = review_count = 0
    categories: set[str] = set()
    weeks: set[date] = set()
    for kind, at, decided, category in rows:
        moment = at or decided
        if kind == "fix":
            fix_count += 1
            if category:
                categories.add(category)
        else:
            review_count += 1
        if moment is not None:
            weeks.add(local_week(as_utc(moment), timezone))
    return Record(fixes=fix_count, reviews=review_count, categories=frozenset(categories),
                  weeks=frozenset(weeks))


# --- the rules (pure) ----------------------------------------------------------------------

def earned_codes(record: Record, badges: Iterable[Badge], *, streak: Streak) -> set[str]:
    """The codes of every rule badge `record` has earned; campaign badges are never here."""
    have = {FIXES: record.fixes, REVIEWS: record.reviews, STREAK: streak.best}
    earned = set()
    for badge in badges:
        if badge.metric == CATEGORY:
            if badge.category in record.categories:
                earned.add(badge.code)
        elif badge.metric is not None and have[badge.metric] >= badge.threshold:
            earned.add(badge.code)
    return earned


@dataclass(frozen=True)
class BadgeProgress:
    badge: Badge
    have: int
    need: int

    @property
    def remaining(self) -> int:
        return max(self.need - self.have, 0)

    @property
    def text(self) -> str:
        """"2 more fixes for Five Fixes"."""
        one, many = _UNITS[self.badge.metric]
        return f"{self.remaining} more {one if self.remaining == 1 else many} for {self.badge.name}"


_UNITS = {FIXES: ("fix", "fixes"), REVIEWS: ("review", "reviews"),
          STREAK: ("week in a row", "weeks in a row")}


def next_badges(record: Record, badges: Iterable[Badge], earned: set[str], *, streak: Streak,
                reviewer: bool) -> list[BadgeProgress]:
    """For each counted family (fixes, reviews, streak), the nearest badge not yet earned.
    Reviews show only for people who review; streaks only when they are on."""
    have = {FIXES: record.fixes, REVIEWS: record.reviews, STREAK: streak.weeks}
    shown = {FIXES} | ({REVIEWS} if reviewer else set()) | ({STREAK} if streak.enabled else set())
    nearest: dict[str, Badge] = {}
    for badge in badges:
        if badge.metric in shown and badge.code not in earned:
            if badge.metric not in nearest or badge.threshold < nearest[badge.metric].threshold:
                nearest[badge.metric] = badge
    return [BadgeProgress(b, have[b.metric], b.threshold) for b in nearest.values()]


# --- awarding ------------------------------------------------------------------------------

def _insert_awards(session: Session):
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(BadgeAward).on_conflict_do_nothing(index_elements=["user_id", "code"])


def held_codes(session: Session, user_id: int) -> set[str]:
    return set(session.scalars(select(BadgeAward.code).where(BadgeAward.user_id == user_id)))


def evaluate(session: Session, *, user_id: int, now: datetime | None = None,
             settings: BadgeSettings | None = None, streaks: bool | None = None) -> list[BadgeAward]:
    """Award every rule badge `user_id` has newly earned, each once, and pay its points.
    Returns the awards this call made (an empty list if none, or if a concurrent
    transaction made them). Two queries when nothing is new; then one insert for the
    badges and one ledger insert per new badge (none when BADGE_POINTS is 0: a zero entry
    would only move the member's tie-break on the boards). Flushes; the caller commits.
    `streaks` None: on, except for a child whose teacher has not turned them on
    (childsafe.policy.streaks_enabled, asked only when a streak badge is about to be won)."""
    settings = settings or current_settings()
    now = now or utcnow()
    badges = catalogue(settings.categories)
    record = contributions(session, user_id, timezone=settings.timezone)
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    streak = weekly_streak(record.weeks, today=today, enabled=streaks is not False)
    new = earned_codes(record, badges.values(), streak=streak) - held_codes(session, user_id)
    if streaks is None and any(badges[code].metric == STREAK for code in new):
        from childsafe.policy import streaks_enabled

        if not streaks_enabled(session, user_id):
            new -= {code for code in new if badges[code].metric == STREAK}
    if not new:
        return []
    rows = [{"user_id": user_id, "code": code, "awarded_at": now} for code in badges if code in new]
    awards = list(session.scalars(_insert_awards(session).returning(BadgeAward), rows))
    if settings.points:
        for award in awards:
            ledger.award(session, key=f"badge:{user_id}:{award.code}", amount=settings.points,
                         reason=f"Badge earned: {badges[award.code].name}", user_id=user_id, kind="badge")
    session.flush()
    return awards


def award(session: Session, *, user_id: int, code: str, now: datetime | None = None,
          settings: BadgeSettings | None = None) -> BadgeAward | None:
    """Award one badge that code outside the rules decides (a campaign reaching its goal,
    an event's results): once per person, paid like the rule badges. Returns the award,
    or None if the person already held it."""
    settings = settings or current_settings()
    badge = badge_for(code, settings.categories)
    if badge is None:
        raise ValueError(f"No badge {code!r} in the catalogue.")
    row = {"user_id": user_id, "code": code, "awarded_at": now or utcnow()}
    made = session.scalars(_insert_awards(session).returning(BadgeAward), [row]).first()
    if made is not None and settings.points:
        ledger.award(session, key=f"badge:{user_id}:{code}", amount=settings.points,
                     reason=f"Badge earned: {badge.name}", user_id=user_id, kind="badge")
    session.flush()
    return made


@dataclass(frozen=True)
class EarnedBadge:
    badge: Badge
    awarded_at: datetime


def badges_of(session: Session, user_id: int, *, settings: BadgeSettings | None = None) -> list[EarnedBadge]:
    """The badges a person holds, oldest first (one query)."""
    settings = settings or current_settings()
    rows = session.execute(select(BadgeAward.code, BadgeAward.awarded_at).where(BadgeAward.user_id == user_id)
                           .order_by(BadgeAward.awarded_at, BadgeAward.id)).all()
    earned = []
    for code, awarded_at in rows:
        badge = badge_for(code, settings.categories)
        if badge is not None:
            earned.append(EarnedBadge(badge, awarded_at))
    return earned
