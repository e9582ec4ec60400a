"""The personal dashboard (/dashboard): a signed-in participant's own page.

Progress to the next level, this week's streak and points, the badges on the way (from
the badge rules: "2 more fixes for Five Fixes"), every claim and its state, who reviewed
the work and who said thank you, what the person's teams have been doing, and a level or
badge to celebrate, once.

About ten queries whatever the person has done. Other people are named only where the
person may see them: a child's dashboard names only the people in their class (their
teams' members and captains); nobody's names a child they do not share a team with;
kudos givers hidden from the boards stay unnamed, as on profiles.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select, union
from sqlalchemy.orm import Session, joinedload

from accounts.models import Kudos, Team, TeamMembership, User
from challenges.models import Claim, ClaimStatus, Quest, Review
from childsafe.policy import child_settings
from scoring.badges import (BadgeProgress, BadgeSettings, EarnedBadge, catalogue, contributions, credited_claims,
                            current_settings, next_badges)
from scoring.levels import Level, level_for
from scoring.models import BadgeAward, LedgerEntry
from scoring.streaks import Streak, week_start, weekly_streak
from scoring.windows import week_containing
from timeutil import utcnow

SOCIAL_LIMIT = 5


@dataclass(frozen=True)
class ReviewNote:
    reviewer: str | None  # None: someone the person may not see named
    decision: str
    reason: str | None
    claim_id: int
    quest_title: str
    at: datetime


@dataclass(frozen=True)
class ThanksNote:
    giver: str | None
    claim_id: int
    quest_title: str
    at: datetime


@dataclass(frozen=True)
class TeamNote:
    who: str | None
    team: str | None
    quest_id: int
    quest_title: str
    at: datetime


@dataclass(frozen=True)
class Celebration:
    level: int | None          # a level reached and not yet celebrated
    badges: list[EarnedBadge]  # badges earned and not yet celebrated, oldest first
    newest_badge_id: int | None


@dataclass(frozen=True)
class Dashboard:
    points: int
    week_points: int
    level: Level
    streak: Streak
    active_this_week: bool
    earned: list[EarnedBadge]
    progress: list[BadgeProgress]
    claims: list[Claim]
    reviews: list[ReviewNote]
    thanks: list[ThanksNote]
    team_activity: list[TeamNote]
    celebration: Celebration | None


def my_teams_select(user_id: int):
    """Ids of the teams a person is in or captains."""
    return union(select(TeamMembership.team_id).where(TeamMembership.user_id == user_id),
                 select(Team.id).where(Team.captain_id == user_id))


def people_known_to(session: Session, user_id: int) -> set[int]:
    """Everyone in the person's teams, and those teams' captains (one query): the people a
    child may see named, and the children anyone else may."""
    teams = my_teams_select(user_id).subquery()
    members = select(TeamMembership.user_id).where(TeamMembership.team_id.in_(select(teams)))
    captains = select(Team.captain_id).where(Team.id.in_(select(teams)))
    return set(session.scalars(union(members, captains))) | {user_id}


def _namer(viewer: User, known: set[int]):
    def name(user_id: int, display_name: str, is_child: bool, hidden: bool = False) -> str | None:
        """`User.unnamed_as_author` as this viewer reads it: a child is named only to people
        who know them (their class; and a child viewer sees only the people they know);
        `hidden` (a moderator hid the profile, or `User.unnamed_in_public` for thank-yous)
        is unnamed to everyone."""
        if hidden or ((viewer.is_child or is_child) and user_id not in known):
            return None
        return display_name
    return name


def points_now(session: Session, user_id: int, *, since: datetime) -> tuple[int, int]:
    """(lifetime points, points since `since`) in one query over the person's ledger rows."""
    row = session.execute(select(func.coalesce(func.sum(LedgerEntry.amount), 0),
                                 func.coalesce(func.sum(case((LedgerEntry.created_at >= since, LedgerEntry.amount),
                                                             else_=0)), 0))
                          .where(LedgerEntry.user_id == user_id)).one()
    return int(row[0]), int(row[1])


def earned_badges(session: Session, user_id: int, settings: BadgeSettings) -> list[tuple[int, EarnedBadge]]:
    """(award id, badge) for each badge held, oldest first."""
    from scoring.badges import badge_for

    rows = session.execute(select(BadgeAward.id, BadgeAward.code, BadgeAward.awarded_at)
                           .where(BadgeAward.user_id == user_id).order_by(BadgeAward.id)).all()
    return [(award_id, EarnedBadge(badge, at)) for award_id, code, at in rows
            if (badge := badge_for(code, settings.categories)) is not None]


def claims_of(session: Session, user_id: int) -> list[Claim]:
    """The person's claims and their teams' claims, newest first (one query)."""
    teams = select(TeamMembership.team_id).where(TeamMembership.user_id == user_id)
    return list(session.scalars(select(Claim).where(or_(Claim.user_id == user_id, Claim.team_id.in_(teams)))
                                .options(joinedload(Claim.quest), joinedload(Claim.team))
                                .order_by(Claim.created_at.desc(), Claim.id.desc())))


def reviews_of_work(session: Session, viewer: User, name) -> list[ReviewNote]:
    rows = session.execute(
        select(User.id, User.display_name, User.is_child, User.profile_hidden, Review.decision, Review.reason, Claim.id,
               Quest.title, Review.created_at)
        .select_from(Review).join(Claim, Claim.id == Review.claim_id).join(Quest, Quest.id == Claim.quest_id)
        .join(User, User.id == Review.reviewer_id).where(credited_claims(viewer.id) | (Claim.user_id == viewer.id))
        .order_by(Review.created_at.desc(), Review.id.desc()).limit(SOCIAL_LIMIT)).all()
    return [ReviewNote(name(r[0], r[1], r[2], r[3]), r[4], r[5], r[6], r[7], r[8]) for r in rows]


def thanks_received(session: Session, viewer: User, name) -> list[ThanksNote]:
    rows = session.execute(
        select(User.id, User.display_name, User.is_child, User.unnamed_in_public, Claim.id,
               Quest.title, Kudos.created_at)
        .select_from(Kudos).join(Claim, Claim.id == Kudos.claim_id).join(Quest, Quest.id == Claim.quest_id)
        .join(User, User.id == Kudos.giver_id)
        .where(Claim.status == ClaimStatus.approved.value, credited_claims(viewer.id))
        .order_by(Kudos.created_at.desc(), Kudos.id.desc()).limit(SOCIAL_LIMIT)).all()
    return [ThanksNote(name(r[0], r[1], r[2], r[3]), r[4], r[5], r[6]) for r in rows]


def team_activity(session: Session, viewer: User, name) -> list[TeamNote]:
    """The newest approved fixes of the person's teammates (solo or for a team), not their own."""
    teams = my_teams_select(viewer.id).subquery()
    mates = select(TeamMembership.user_id).where(TeamMembership.team_id.in_(select(teams)))
    rows = session.execute(
        select(User.id, User.display_name, User.is_child, User.profile_hidden, Team.name, Quest.id, Quest.title,
               Claim.decided_at)
        .select_from(Claim).join(Quest, Quest.id == Claim.quest_id).join(User, User.id == Claim.user_id)
        .outerjoin(Team, Team.id == Claim.team_id)
        .where(Claim.status == ClaimStatus.approved.value, Claim.user_id != viewer.id,
               or_(Claim.user_id.in_(mates), Claim.team_id.in_(select(teams))))
        .order_by(Claim.decided_at.desc(), Claim.id.desc()).limit(SOCIAL_LIMIT)).all()
    return [TeamNote(name(r[0], r[1], r[2], r[3]), r[4], r[5], r[6], r[7]) for r in rows]


def celebration_for(viewer: User, level: Level, earned: list[tuple[int, EarnedBadge]]) -> Celebration | None:
    """A level above the last one celebrated, and badges newer than the last celebrated."""
    seen = viewer.celebrated_badge_id or 0
    new_badges = [badge for award_id, badge in earned if award_id > seen]
    new_level = level.number if level.number > (viewer.celebrated_level or 1) else None
    if new_level is None and not new_badges:
        return None
    return Celebration(new_level, new_badges, max((i for i, _ in earned), default=None))


def load_dashboard(session: Session, viewer: User, *, now: datetime | None = None,
                   settings: BadgeSettings | None = None) -> Dashboard:
    settings = settings or current_settings()
    now = now or utcnow()
    week = week_containing(now, settings.timezone)
    points, week_points = points_now(session, viewer.id, since=week.starts_at)
    level = level_for(points)
    record = contributions(session, viewer.id, timezone=settings.timezone)
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    enabled = not viewer.is_child or child_settings(session, viewer.id).streaks
    streak = weekly_streak(record.weeks, today=today, enabled=enabled)
    earned = earned_badges(session, viewer.id, settings)
    progress = next_badges(record, catalogue(settings.categories).values(), {e.badge.code for _, e in earned},
                           streak=streak, reviewer=viewer.is_organiser or record.reviews > 0)
    name = _namer(viewer, people_known_to(session, viewer.id))
    return Dashboard(
        points=points, week_points=week_points, level=level, streak=streak,
        active_this_week=week_start(today) in record.weeks,
        earned=[e for _, e in earned], progress=progress, claims=claims_of(session, viewer.id),
        reviews=reviews_of_work(session, viewer, name), thanks=thanks_received(session, viewer, name),
        team_activity=team_activity(session, viewer, name), celebration=celebration_for(viewer, level, earned))


def mark_celebrated(session: Session, *, actor: User) -> None:
    """Remember the person's current level and newest badge as celebrated (two reads)."""
    points = int(session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                                .where(LedgerEntry.user_id == actor.id)))
    newest = session.scalar(select(func.max(BadgeAward.id)).where(BadgeAward.user_id == actor.id))
    actor.celebrated_level = max(level_for(points).number, actor.celebrated_level or 1)
    if newest is not None:
        actor.celebrated_badge_id = newest
    session.flush()
