"""What the home page shows, each part in one or two queries whatever the data size.

- `quests_near`: open quests made from problems near a point (the person's saved area, or
  the browser's location), nearest first, each with its distance.
- `closing_soon`: open quests with a deadline, soonest first.
- `impact`: the place's numbers for each open season ("Riverside has fixed 143 problems
  in Autumn term") and the running campaigns' progress.
- `first_run`: the steps a new site's first admin still has to take.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import Session

from accounts.models import Role, Team, User
from campaigns.models import Campaign, CampaignStatus
from campaigns import services as campaigns
from challenges import geo
from challenges.models import Claim, ClaimStatus, Problem, Quest, Subscription, SubscriptionKind
from challenges.services import open_quests_select
from maps.area import Circle
from scoring import windows
from scoring.models import Season
from timeutil import utcnow

NEAR_LIMIT = 5
CLOSING_LIMIT = 5
# Candidates read from the box around the circle before the exact distance is checked.
_NEAR_CANDIDATES = 60


@dataclass(frozen=True)
class NearQuest:
    quest: Quest
    distance_m: float


def saved_area(session: Session, user_id: int) -> Circle | None:
    """The person's saved area: the newest area they follow (notifications' area subscription)."""
    row = session.execute(select(Subscription.centre_lat, Subscription.centre_lon, Subscription.radius_m)
                          .where(Subscription.user_id == user_id, Subscription.kind == SubscriptionKind.area.value,
                                 Subscription.centre_lat.is_not(None), Subscription.radius_m.is_not(None))
                          .order_by(Subscription.id.desc()).limit(1)).first()
    return Circle(row.centre_lat, row.centre_lon, row.radius_m) if row else None


def _box(circle: Circle) -> tuple[float, float, float, float]:
    """(south, north, west, east) enclosing the circle (not across the antimeridian: a town)."""
    dlat = math.degrees(circle.radius_m / geo.EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(circle.lat)), 0.01)
    return circle.lat - dlat, circle.lat + dlat, circle.lon - dlon, circle.lon + dlon


def quests_near(session: Session, *, area: Circle, now: datetime | None = None,
                limit: int = NEAR_LIMIT) -> list[NearQuest]:
    """Open quests made from a problem inside `area`, nearest first (one query)."""
    south, north, west, east = _box(area)
    rows = session.execute(open_quests_select(now).add_columns(Problem.lat, Problem.lon)
                           .join(Problem, Problem.id == Quest.problem_id)
                           .where(Problem.lat.between(south, north), Problem.lon.between(west, east))
                           .limit(_NEAR_CANDIDATES)).all()
    found = [NearQuest(quest, geo.haversine_m(area.lat, area.lon, lat, lon)) for quest, lat, lon in rows]
    return sorted((n for n in found if n.distance_m <= area.radius_m), key=lambda n: n.distance_m)[:limit]


def closing_soon(session: Session, *, now: datetime | None = None, limit: int = CLOSING_LIMIT) -> list[Quest]:
    """Open quests that have a deadline, the soonest first (one query)."""
    return list(session.scalars(open_quests_select(now).where(Quest.ends_at.is_not(None)).limit(limit)))


# --- epic meaning --------------------------------------------------------------------------

@dataclass(frozen=True)
class SeasonImpact:
    name: str
    fixed: int


@dataclass(frozen=True)
class CampaignImpact:
    """A running campaign's progress (plain values, so the numbers may be kept a while)."""
    id: int
    title: str
    why: str
    goal: int
    ends_at: datetime
    fixed: int

    @property
    def percent(self) -> int:
        return campaigns.percent(self.fixed, self.goal)


@dataclass(frozen=True)
class Impact:
    fixed: int                       # problems ever fixed (approved work on their quests)
    seasons: list[SeasonImpact]      # problems fixed in each open season
    campaigns: list[CampaignImpact]  # running campaigns and their progress


def _fixed_in_seasons(session: Session, seasons: list[Season], zone: ZoneInfo) -> tuple[int, list[SeasonImpact]]:
    """Problems fixed ever and within each season's dates, in one query."""
    columns = [func.count(func.distinct(Quest.problem_id))]
    for season in seasons:
        window = windows.season_window(windows.SeasonDates(season.id, season.name, season.starts_on,
                                                           season.ends_on), zone)
        inside = and_(Claim.decided_at >= window.starts_at, Claim.decided_at < window.ends_at)
        columns.append(func.count(func.distinct(case((inside, Quest.problem_id)))))
    row = session.execute(select(*columns).select_from(Claim).join(Quest, Quest.id == Claim.quest_id)
                          .where(Claim.status == ClaimStatus.approved.value, Quest.problem_id.is_not(None))).one()
    return int(row[0] or 0), [SeasonImpact(s.name, int(n or 0)) for s, n in zip(seasons, row[1:])]


def impact(session: Session, *, zone: str, now: datetime | None = None, campaign_limit: int = 3) -> Impact:
    """Three queries: the open seasons, the fixes (ever and per season), the running
    campaigns with their progress."""
    now = now or utcnow()
    tz = windows.zone_named(zone)
    today = windows.local_date(now, tz)
    seasons = list(session.scalars(select(Season).where(Season.starts_on <= today, Season.ends_on >= today)
                                   .order_by(Season.starts_on, Season.id)))
    fixed, by_season = _fixed_in_seasons(session, seasons, tz)
    running = list(session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.active.value,
                                                          Campaign.starts_at <= now, Campaign.ends_at > now)
                                   .order_by(Campaign.ends_at, Campaign.id).limit(campaign_limit)))
    progress = campaigns.progress_of_many(session, running)
    return Impact(fixed, by_season, [CampaignImpact(c.id, c.title, c.why, c.goal, c.ends_at, progress.get(c.id, 0))
                                     for c in running])


# --- first run -----------------------------------------------------------------------------

@dataclass(frozen=True)
class FirstRun:
    has_organiser: bool
    has_quest: bool
    has_team: bool

    @property
    def done(self) -> bool:
        return self.has_organiser and self.has_quest and self.has_team


def first_run(session: Session) -> FirstRun:
    """Which first steps a new site has taken (one query). An organiser is anyone with the
    organiser role other than admins, who are the ones being guided."""
    row = session.execute(select(
        exists().where(User.role == Role.organiser.value),
        exists().where(Quest.id.is_not(None)),
        exists().where(Team.id.is_not(None)),
    )).one()
    return FirstRun(*(bool(value) for value in row))

