"""What a team's page shows, read in a fixed number of queries however big the team.

Public viewers see the members who may be listed publicly (never a child's account, nor
someone hidden from the boards: those are only counted); members see everyone. Points are
the team's own ledger rows (what the team board ranks), this week, this season and in each
of the last `WEEKS` ISO weeks in the site's zone. Recent activity is the members' approved
fixes (and the team's own) and the badges they earned, newest first; a fix made for the
team by someone who may not be named publicly shows as "a member".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from accounts.models import Team, TeamMembership, User
from challenges.models import Claim, ClaimStatus, Quest
from scoring.badges import Badge, badge_for
from scoring.models import BadgeAward, LedgerEntry
from scoring.windows import SeasonDates, Window, default_windows, week_containing

WEEKS = 8
ACTIVITY = 10


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    captain: bool
    private: bool  # a child's account or hidden from the boards: never listed publicly


@dataclass(frozen=True)
class WeekPoints:
    window: Window
    points: int

    @property
    def label(self) -> str:
        return self.window.label.removeprefix("Week of ")


@dataclass(frozen=True)
class Activity:
    at: datetime
    kind: str            # "fix" or "badge"
    who: str | None      # None: a member who may not be named publicly
    title: str           # the quest's title or the badge's name
    quest_id: int | None = None
    badge: Badge | None = None


@dataclass(frozen=True)
class TeamPage:
    team: Team
    members: list[Member]        # the members this viewer may see by name
    unlisted: int                # members counted but not named for this viewer
    week: WeekPoints
    season: WeekPoints           # the current season (or all time when none runs)
    weeks: list[WeekPoints]      # oldest first, ending with this week
    activity: list[Activity]

    @property
    def member_count(self) -> int:
        return len(self.members) + self.unlisted

    @property
    def best_week(self) -> int:
        return max((w.points for w in self.weeks), default=0)

    @property
    def past_average(self) -> int:
        """The average of the weeks before this one (rounded down), to compare this week with."""
        earlier = [w.points for w in self.weeks[:-1]]
        return sum(earlier) // len(earlier) if earlier else 0


def _members(session: Session, team: Team, *, full: bool) -> tuple[list[Member], int]:
    rows = session.execute(select(User.id, User.display_name, User.unnamed_in_public.label("unnamed"))
                           .join(TeamMembership, TeamMembership.user_id == User.id)
                           .where(TeamMembership.team_id == team.id)
                           .order_by(User.display_name, User.id)).all()
    members = [Member(r.id, r.display_name, r.id == team.captain_id, bool(r.unnamed))
               for r in rows]
    shown = [m for m in members if full or not m.private]
    return shown, len(members) - len(shown)


def visible_members(session: Session, team: Team, *, viewer_is_member: bool) -> tuple[list[Member], int]:
    """The members a viewer may see by name (everyone, for a member) and how many others
    are only counted; the team page's own rule."""
    return _members(session, team, full=viewer_is_member)


def _points(session: Session, team_id: int, windows: list[Window]) -> list[int]:
    """The team's points in each window, in one query."""
    def in_window(w: Window):
        conditions = [LedgerEntry.created_at >= w.starts_at] if w.starts_at else []
        conditions += [LedgerEntry.created_at < w.ends_at] if w.ends_at else []
        return func.coalesce(func.sum(case((and_(*conditions), LedgerEntry.amount), else_=0) if conditions
                                      else LedgerEntry.amount), 0)
    row = session.execute(select(*(in_window(w) for w in windows)).where(LedgerEntry.team_id == team_id)).one()
    return [int(value) for value in row]


def _activity(session: Session, team: Team, categories: tuple[str, ...]) -> list[Activity]:
    members = select(TeamMembership.user_id).where(TeamMembership.team_id == team.id)
    public = ~User.unnamed_in_public
    fixes = session.execute(
        select(Claim.decided_at, Claim.team_id, Quest.id, Quest.title, User.display_name, public.label("public"))
        .join(Quest, Quest.id == Claim.quest_id).join(User, User.id == Claim.user_id)
        .where(Claim.status == ClaimStatus.approved.value,
               or_(Claim.team_id == team.id, and_(Claim.team_id.is_(None), Claim.user_id.in_(members), public)))
        .order_by(Claim.decided_at.desc(), Claim.id.desc()).limit(ACTIVITY)).all()
    badges = session.execute(
        select(BadgeAward.awarded_at, BadgeAward.code, User.display_name)
        .join(User, User.id == BadgeAward.user_id)
        .where(BadgeAward.user_id.in_(members), public)
        .order_by(BadgeAward.awarded_at.desc(), BadgeAward.id.desc()).limit(ACTIVITY)).all()
    found = [Activity(r.decided_at, "fix", r.display_name if r.public else None, r.title, quest_id=r.id)
             for r in fixes if r.decided_at is not None]
    for r in badges:
        badge = badge_for(r.code, categories)
        if badge is not None:
            found.append(Activity(r.awarded_at, "badge", r.display_name, badge.name, badge=badge))
    return sorted(found, key=lambda a: a.at, reverse=True)[:ACTIVITY]


def load_team_page(session: Session, team: Team, *, viewer_is_member: bool, now: datetime, zone: ZoneInfo,
                   seasons: list[SeasonDates], categories: tuple[str, ...]) -> TeamPage:
    """Five queries: members, points (every window at once), fixes, badges."""
    members, unlisted = _members(session, team, full=viewer_is_member)
    past = [week_containing(now - timedelta(weeks=back), zone) for back in range(WEEKS - 1, -1, -1)]
    season = default_windows(now=now, zone=zone, seasons=seasons)[1]
    *weekly, season_points = _points(session, team.id, [*past, season])
    weeks = [WeekPoints(w, p) for w, p in zip(past, weekly)]
    return TeamPage(team=team, members=members, unlisted=unlisted, week=weeks[-1],
                    season=WeekPoints(season, season_points), weeks=weeks,
                    activity=_activity(session, team, categories))
