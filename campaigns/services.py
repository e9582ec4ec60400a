"""Campaigns: creating them, counting their progress, milestones, contributors and pledges.

Progress is derived, never counted up: the distinct problems inside the campaign's area and
categories with an approved fix (an approved claim on a quest made from the problem)
decided inside the campaign's window. It is one SQL count that starts from the problems'
grid cells (an index range scan per row of cells) and joins quests and claims by their
indexed foreign keys.

A circle is tested with the equirectangular distance (plain arithmetic, so SQLite and
PostgreSQL compute the same thing in SQL); for radii up to 5 km it differs from the
haversine distance by millimetres. Python uses the same formula (`contains`), so the
approval hook and the count always agree.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

import live
from accounts.models import Team, User
from accounts.services import is_private_class_team
from childsafe.views import CLASS_STAND_IN
from campaigns.models import MILESTONES, Campaign, CampaignMilestone, CampaignStatus, ClaimHours, Pledge
from challenges import geo
from challenges.models import Claim, ClaimMember, ClaimStatus, Problem, Quest
from challenges.services import can_act_for_claim
from errors import Conflict, Forbidden, NotFound, ValidationFailed
from maps.area import Area, BBox, Circle, parse_bbox
from maps.services import in_bbox
from scoring import badges, ledger
from timeutil import as_utc, isoformat, utcnow
from webhooks import services as webhooks

TITLE_MAX = 120
WHY_MAX = 2000
GOAL_MAX = 100_000
M_PER_DEGREE = math.pi * geo.EARTH_RADIUS_M / 180
MAX_CELL_ROWS = 400  # a box taller than this many rows of cells is read without the cell index


class VotingClosed(Conflict):
    code = "voting_closed"

    def __init__(self, campaign_id: int):
        super().__init__("Voting on this campaign is closed: pledges are no longer taken.")
        self.campaign_id = campaign_id


class NotEnoughTokens(ValidationFailed):
    code = "not_enough_tokens"

    def __init__(self, wanted: int, available: int):
        message = (f"You have {available} token{'s' if available != 1 else ''} to pledge, not {wanted}."
                   if available else "You have no tokens to pledge yet: earn points by fixing problems.")
        super().__init__({"tokens": [message]})
        self.message = message
        self.wanted = wanted
        self.available = available


class NotLaunchable(Conflict):
    code = "not_launchable"

    def __init__(self, campaign_id: int, reason: str):
        super().__init__(f"This campaign cannot be launched: {reason}")
        self.campaign_id = campaign_id
        self.reason = reason


# --- areas ---------------------------------------------------------------------------------

def area_of(campaign: Campaign) -> Area:
    if campaign.area_kind == "circle":
        return Circle(campaign.centre_lat, campaign.centre_lon, campaign.radius_m)
    return BBox(campaign.min_lon, campaign.min_lat, campaign.max_lon, campaign.max_lat)


def _cos_lat(lat: float) -> float:
    return math.cos(math.radians(lat))


def contains(area: Area, lat: float, lon: float) -> bool:
    """Is (lat, lon) in the area, by the same test the SQL count makes."""
    if isinstance(area, BBox):
        return area.contains(lat, lon)
    dy = (lat - area.lat) * M_PER_DEGREE
    dx = (lon - area.lon) * M_PER_DEGREE * _cos_lat(area.lat)
    return dx * dx + dy * dy <= area.radius_m * area.radius_m


def _bbox_cells(bbox: BBox) -> list[tuple[int, int]]:
    """Runs of grid cell ids covering the box, one or two per row of cells."""
    first_row = geo.cell_of(bbox.min_lat, 0) // geo.LON_CELLS
    last_row = geo.cell_of(bbox.max_lat, 0) // geo.LON_CELLS
    if last_row - first_row + 1 > MAX_CELL_ROWS:
        return []
    west = geo.cell_of(0, bbox.min_lon) % geo.LON_CELLS
    east = geo.cell_of(0, bbox.max_lon) % geo.LON_CELLS
    runs = []
    for row in range(first_row, last_row + 1):
        base = row * geo.LON_CELLS
        if west <= east:
            runs.append((base + west, base + east))
        else:
            runs += [(base + west, base + geo.LON_CELLS - 1), (base, base + east)]
    return runs


def in_area(area: Area) -> ColumnElement[bool]:
    """WHERE clause for problems inside the area: grid cells (indexed) plus the exact test."""
    if isinstance(area, BBox):
        runs = _bbox_cells(area)
        exact = in_bbox(area)
    else:
        runs = geo.cell_ranges(area.lat, area.lon, area.radius_m)
        dy = (Problem.lat - area.lat) * M_PER_DEGREE
        dx = (Problem.lon - area.lon) * (M_PER_DEGREE * _cos_lat(area.lat))
        exact = dx * dx + dy * dy <= area.radius_m * area.radius_m
    if not runs:
        return exact
    return and_(or_(*(Problem.cell.between(first, last) for first, last in runs)), exact)


# --- creating ------------------------------------------------------------------------------

AREA_KINDS = ("bbox", "circle")


def area_from(kind: str | None, *, centre: Sequence[float | None] = (None, None, None),
              edges: Sequence[float | None] = (None, None, None, None)) -> Area:
    """The area a campaign form or API body describes: a circle (`centre`: lat, lon, radius
    in metres) or a box (`edges`: min_lon, min_lat, max_lon, max_lat), with maps.area's
    checks. Raises BadArea naming the part that is wrong: "kind", "lat", "lon", "radius_m"
    or "bbox"."""
    if kind == "circle":
        if None in centre:
            raise geo.BadArea("lat", "Give the centre and the radius.")
        geo.check_circle(*centre)
        return Circle(*centre)
    if kind == "bbox":
        if None in edges:
            raise geo.BadArea("bbox", "Give all four edges of the box.")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in edges):
            raise geo.BadArea("bbox", "Give the edges as numbers.")
        return parse_bbox(",".join(repr(float(v)) for v in edges))
    raise geo.BadArea("kind", f"Choose one of: {', '.join(AREA_KINDS)}.")


def _check_fields(*, title: str, why: str, categories: Sequence[str], all_categories: Sequence[str],
                  goal: int | None, starts_at: datetime | None, ends_at: datetime | None,
                  vote: bool, vote_until: datetime | None, now: datetime) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    if not 3 <= len(title) <= TITLE_MAX:
        fields["title"] = [f"Give a title of 3 to {TITLE_MAX} characters."]
    if not why:
        fields["why"] = ["Say why it matters: it is what brings people in."]
    elif len(why) > WHY_MAX:
        fields["why"] = [f"Keep this to {WHY_MAX} characters or fewer."]
    unknown = [c for c in categories if c not in all_categories]
    if unknown:
        fields["categories"] = [f"Unknown categories: {', '.join(unknown)}."]
    if goal is None or not 1 <= goal <= GOAL_MAX:
        fields["goal"] = [f"Set a goal of 1 to {GOAL_MAX:,} problems fixed."]
    if ends_at is None:
        fields["ends_at"] = ["Say when the campaign ends."]
    elif ends_at <= now:
        fields["ends_at"] = ["The end must be in the future."]
    elif starts_at is not None and ends_at <= starts_at:
        fields["ends_at"] = ["The end must be after the start."]
    if vote and vote_until is None:
        fields["voting_closes_at"] = ["Say when voting closes."]
    elif vote_until is not None:
        if vote_until <= now:
            fields["voting_closes_at"] = ["Voting must close in the future."]
        elif ends_at is not None and vote_until >= ends_at:
            fields["voting_closes_at"] = ["Voting must close before the campaign would end."]
    return fields


def check_may_create(actor: User) -> None:
    """Organisers run campaigns (a caller may ask before reading the rest of a request)."""
    if not actor.is_organiser:
        raise Forbidden("create campaigns", "organisers run campaigns; pledge tokens to the ones you want.")


def create_campaign(session: Session, *, actor: User, title: str, why: str, area: Area,
                    categories: Sequence[str], all_categories: Sequence[str], goal: int | None,
                    ends_at: datetime | None, starts_at: datetime | None = None,
                    vote_until: datetime | None = None, vote: bool | None = None,
                    now: datetime | None = None) -> Campaign:
    """An organiser starts a campaign now (active), or puts it to the community's vote until
    `vote_until` (voting). `vote`: the organiser chose a vote (then `vote_until` is required;
    None: a vote exactly when `vote_until` is given). Every field is checked at once."""
    check_may_create(actor)
    now = now or utcnow()
    title, why = (title or "").strip(), (why or "").strip()
    starts_at, ends_at, vote_until = as_utc(starts_at), as_utc(ends_at), as_utc(vote_until)
    if vote is None:
        vote = vote_until is not None
    elif not vote:
        vote_until = None  # launched now: a closing time given with it means nothing
    categories = list(dict.fromkeys(categories))
    fields = _check_fields(title=title, why=why, categories=categories, all_categories=all_categories, goal=goal,
                           starts_at=starts_at, ends_at=ends_at, vote=vote, vote_until=vote_until, now=now)
    if fields:
        raise ValidationFailed(fields)
    campaign = Campaign(title=title, why=why, goal=goal, ends_at=ends_at, organiser_id=actor.id, created_at=now,
                        categories="" if set(categories) >= set(all_categories) else ",".join(categories))
    if isinstance(area, Circle):
        campaign.area_kind = "circle"
        campaign.centre_lat, campaign.centre_lon, campaign.radius_m = area.lat, area.lon, area.radius_m
    else:
        campaign.area_kind = "bbox"
        campaign.min_lat, campaign.min_lon = area.min_lat, area.min_lon
        campaign.max_lat, campaign.max_lon = area.max_lat, area.max_lon
    if vote_until is not None:
        campaign.status, campaign.voting_closes_at, campaign.starts_at = CampaignStatus.voting.value, vote_until, starts_at
    else:
        campaign.status, campaign.starts_at = CampaignStatus.active.value, starts_at or now
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("campaign", campaign_id)
    return campaign


def phase(campaign: Campaign, now: datetime | None = None) -> str:
    """The status as people see it: an active campaign whose window closed is finished."""
    now = now or utcnow()
    if campaign.status == CampaignStatus.active.value and campaign.ends_at <= now:
        return CampaignStatus.finished.value
    return campaign.status


# --- progress ------------------------------------------------------------------------------

def counts_problem(campaign: Campaign, problem: Problem) -> bool:
    categories = campaign.category_list
    return (not categories or problem.category in categories) and contains(area_of(campaign), problem.lat, problem.lon)


def _fix_filters(area: Area, categories: Sequence[str], since: datetime | None,
                 until: datetime | None) -> list[ColumnElement[bool]]:
    clauses = [Claim.status == ClaimStatus.approved.value, in_area(area)]
    if categories:
        clauses.append(Problem.category.in_(list(categories)))
    if since is not None:
        clauses.append(Claim.decided_at >= since)
    if until is not None:
        clauses.append(Claim.decided_at < until)
    return clauses


def fixes_select(columns, *, area: Area, categories: Sequence[str] = (), since: datetime | None = None,
                 until: datetime | None = None) -> Select:
    """`columns` from approved claims on quests made from problems in the area and categories,
    decided in [since, until)."""
    return (select(*columns).select_from(Problem)
            .join(Quest, Quest.problem_id == Problem.id)
            .join(Claim, Claim.quest_id == Quest.id)
            .where(*_fix_filters(area, categories, since, until)))


def _campaign_fixes(campaign: Campaign, *columns) -> Select:
    """The campaign's counted fixes; none before it has started (no start: an empty window)."""
    return fixes_select(columns, area=area_of(campaign), categories=campaign.category_list,
                        since=campaign.starts_at or campaign.ends_at, until=campaign.ends_at)


def place_filters(campaign: Campaign) -> list[ColumnElement[bool]]:
    """Problems in the campaign's area and categories (the claims' problems, joined)."""
    clauses = [in_area(area_of(campaign))]
    if campaign.category_list:
        clauses.append(Problem.category.in_(campaign.category_list))
    return clauses


def counted_claim_filters(campaign: Campaign) -> list[ColumnElement[bool]]:
    """Claims in the campaign's place that count: approved, decided inside its window (the
    rest of `_campaign_fixes`, kept apart so a leaderboard can tell a claim that stopped
    counting, reversed, from one that never touched the campaign)."""
    since = campaign.starts_at or campaign.ends_at
    return [Claim.status == ClaimStatus.approved.value, Claim.decided_at >= since, Claim.decided_at < campaign.ends_at]


def counted_claims_select(campaign: Campaign) -> Select:
    """Ids of the claims the campaign counts (the campaign leaderboard's rows are theirs)."""
    return _campaign_fixes(campaign, Claim.id)


def counted_problems_select(campaign: Campaign) -> Select:
    """Ids of the problems the campaign counts (a subquery for other lists)."""
    return _campaign_fixes(campaign, Problem.id)


def progress(session: Session, campaign: Campaign) -> int:
    """Problems fixed for the campaign so far: one count."""
    return int(session.scalar(_campaign_fixes(campaign, func.count(func.distinct(Problem.id)))) or 0)


def percent(count: int, goal: int) -> int:
    return min(100, count * 100 // goal) if goal else 0


def milestones_of(session: Session, campaign_ids: Sequence[int]) -> dict[int, list[CampaignMilestone]]:
    found: dict[int, list[CampaignMilestone]] = defaultdict(list)
    if campaign_ids:
        for row in session.scalars(select(CampaignMilestone).where(CampaignMilestone.campaign_id.in_(campaign_ids))
                                   .order_by(CampaignMilestone.percent)):
            found[row.campaign_id].append(row)
    return found


def progress_state(session: Session, campaign_id: int, *, reached: list[CampaignMilestone] | None = None) -> dict:
    """The whole live state of a campaign's progress (the SSE payload and the page's numbers).
    `reached`: the campaign's milestones, when the caller has read them already."""
    campaign = session.get(Campaign, campaign_id)
    count = progress(session, campaign)
    if reached is None:
        reached = milestones_of(session, [campaign_id])[campaign_id]
    return {"campaign": campaign_id, "count": count, "goal": campaign.goal, "percent": percent(count, campaign.goal),
            "text": f"{count} of {campaign.goal} problems fixed",
            "milestones": [{"percent": m.percent, "reached_at": isoformat(m.reached_at)} for m in reached]}


def progress_topic(campaign_id: int) -> str:
    return f"campaign:{campaign_id}:progress"


# --- who gets credit -----------------------------------------------------------------------

def credited_users(session: Session, claims: Sequence[tuple[int, int, int | None]]) -> dict[int, list[int]]:
    """{claim id: user ids credited}, from (claim id, claimant, team) rows: a solo claim
    credits its claimant; a team claim the members listed as taking part (else its claimant)."""
    team_claims = [claim_id for claim_id, _, team_id in claims if team_id is not None]
    members: dict[int, list[int]] = defaultdict(list)
    if team_claims:
        for claim_id, user_id in session.execute(select(ClaimMember.claim_id, ClaimMember.user_id)
                                                 .where(ClaimMember.claim_id.in_(team_claims))
                                                 .order_by(ClaimMember.id)):
            members[claim_id].append(user_id)
    return {claim_id: members.get(claim_id) or [user_id] for claim_id, user_id, _ in claims}


def _counted_claims(session: Session, campaign: Campaign) -> list[tuple[int, int, int | None]]:
    return [tuple(row) for row in session.execute(_campaign_fixes(campaign, Claim.id, Claim.user_id, Claim.team_id))]


@dataclass(frozen=True)
class Contributors:
    teams: list[tuple[Team, int]]     # (team, fixes)
    people: list[tuple[User, int]]    # (person, fixes), only people who may be named
    unnamed: int                      # people who took part but are not named (children, hidden)
    private_teams: frozenset[int] = frozenset()  # private class teams, named "a school class" in public


def contributors(session: Session, campaign: Campaign) -> Contributors:
    """Teams (private class teams marked in `private_teams`: "a school class" in public), and
    the individuals who consent to being named (not children, not hidden from the boards),
    with the fixes each took part in. Three or four queries."""
    claims = _counted_claims(session, campaign)
    team_fixes = Counter(team_id for _, _, team_id in claims if team_id is not None)
    person_fixes: Counter[int] = Counter()
    for user_ids in credited_users(session, claims).values():
        person_fixes.update(set(user_ids))
    rows = session.execute(select(Team, is_private_class_team(Team.id)).where(Team.id.in_(list(team_fixes)))).all() \
        if team_fixes else []
    teams = {team.id: team for team, _ in rows}
    private = frozenset(team.id for team, hidden in rows if hidden)
    people = {user.id: user for user in session.scalars(select(User).where(
        User.id.in_(list(person_fixes)), ~User.unnamed_in_public))} \
        if person_fixes else {}
    return Contributors(
        teams=sorted(((teams[t], n) for t, n in team_fixes.items() if t in teams),
                     key=lambda p: (-p[1], CLASS_STAND_IN if p[0].id in private else p[0].name)),
        people=sorted(((people[u], n) for u, n in person_fixes.items() if u in people),
                      key=lambda p: (-p[1], p[0].display_name)),
        unnamed=len(set(person_fixes) - set(people)), private_teams=private)


# --- the approval hook ---------------------------------------------------------------------

def _insert_milestones(session: Session):
    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(CampaignMilestone).on_conflict_do_nothing(index_elements=["campaign_id", "percent"])


def after_approval(session: Session, *, claim: Claim, now: datetime | None = None) -> None:
    """Called by challenges.reviews at the end of an approval. One indexed query when no
    active campaign's window holds the decision; otherwise, for each campaign counting this
    fix: record the milestones reached, award the campaign badges, publish the progress."""
    problem_id = claim.quest.problem_id
    decided = claim.decided_at
    if problem_id is None or decided is None:
        return
    running = session.scalars(select(Campaign).where(
        Campaign.status == CampaignStatus.active.value, Campaign.ends_at > decided,
        or_(Campaign.starts_at.is_(None), Campaign.starts_at <= decided))).all()
    if not running:
        return
    problem = session.get(Problem, problem_id)
    for campaign in running:
        if counts_problem(campaign, problem):
            _count_fix(session, campaign, claim, now or utcnow())


def _count_fix(session: Session, campaign: Campaign, claim: Claim, now: datetime) -> None:
    # Approvals in one campaign take turns here (a row lock on PostgreSQL), so the count
    # each one reads includes the others': no milestone is skipped by two racing approvals.
    session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    count = progress(session, campaign)
    reached = [p for p in MILESTONES if count * 100 >= p * campaign.goal]
    new: set[int] = set()
    if reached:
        rows = [{"campaign_id": campaign.id, "percent": p, "reached_at": now, "claim_id": claim.id} for p in reached]
        new = set(session.scalars(_insert_milestones(session).returning(CampaignMilestone.percent), rows))
    if 100 in reached:
        _award_badges(session, campaign, claim, closed_now=100 in new, now=now)
    for percent in sorted(new):  # each milestone once: organisations' systems hear of it too
        webhooks.campaign_milestone(session, campaign, percent=percent, count=count, reached_at=now)
    live.publish(session, progress_topic(campaign.id), "state", partial(progress_state, campaign_id=campaign.id))


def _award_badges(session: Session, campaign: Campaign, claim: Claim, *, closed_now: bool, now: datetime) -> None:
    """The goal is reached: "closer" for the fix that reached it; "finished together" for
    everyone credited with a counted fix (all of them when it is reached, later fixers as
    they come)."""
    mine = credited_users(session, [(claim.id, claim.user_id, claim.team_id)])[claim.id]
    together = set(mine)
    if closed_now:
        for user_id in mine:
            badges.award(session, user_id=user_id, code="closer", now=now)
        for user_ids in credited_users(session, _counted_claims(session, campaign)).values():
            together.update(user_ids)
    for user_id in sorted(together):
        badges.award(session, user_id=user_id, code="finished-together", now=now)


# --- volunteer hours -----------------------------------------------------------------------

HOURS_MAX = 1000


def record_hours(session: Session, *, actor: User, claim: Claim, hours: float | None) -> None:
    """The hours spent on a claim, given with its evidence (None: not given)."""
    if hours is None:
        return
    if not can_act_for_claim(session, actor, claim):
        raise Forbidden("log hours for this claim", "it is not yours or your team's.")
    if not math.isfinite(hours) or not 0 < hours <= HOURS_MAX:
        raise ValidationFailed({"hours": [f"Give the hours as a number above 0 and up to {HOURS_MAX}."]})
    row = session.get(ClaimHours, claim.id)
    if row is None:
        session.add(ClaimHours(claim_id=claim.id, hours=round(hours, 2)))
    else:
        row.hours = round(hours, 2)
    session.flush()


# --- pledges -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tokens:
    earned: int
    pledged: int

    @property
    def available(self) -> int:
        return max(0, self.earned - self.pledged)


def tokens_of(session: Session, user_id: int, *, token_points: int) -> Tokens:
    """Tokens earned (lifetime points / token_points, rounded down) and already pledged."""
    pledged = session.scalar(select(func.coalesce(func.sum(Pledge.tokens), 0)).where(Pledge.user_id == user_id))
    return Tokens(earned=ledger.lifetime_points(session, user_id) // token_points, pledged=int(pledged))


def voting_open(campaign: Campaign, now: datetime | None = None) -> bool:
    return (campaign.status == CampaignStatus.voting.value and campaign.voting_closes_at is not None
            and (now or utcnow()) < campaign.voting_closes_at)


def pledge(session: Session, *, actor: User, campaign: Campaign, tokens: int | None, token_points: int,
           now: datetime | None = None) -> Pledge:
    """Pledge some of one's tokens to a campaign in a vote. The person's row is locked first,
    so two pledges at once cannot spend the same tokens twice."""
    now = now or utcnow()
    if not voting_open(campaign, now):
        raise VotingClosed(campaign.id)
    if tokens is None or tokens < 1:
        raise ValidationFailed({"tokens": ["Pledge at least 1 token."]})
    session.execute(select(User.id).where(User.id == actor.id).with_for_update())
    available = tokens_of(session, actor.id, token_points=token_points).available
    if tokens > available:
        raise NotEnoughTokens(tokens, available)
    row = Pledge(campaign_id=campaign.id, user_id=actor.id, tokens=tokens, created_at=now)
    session.add(row)
    session.flush()
    return row


def pledge_totals(session: Session, campaign_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """{campaign id: (tokens pledged, people pledging)}."""
    if not campaign_ids:
        return {}
    rows = session.execute(select(Pledge.campaign_id, func.sum(Pledge.tokens), func.count(func.distinct(Pledge.user_id)))
                           .where(Pledge.campaign_id.in_(list(campaign_ids))).group_by(Pledge.campaign_id))
    return {campaign_id: (int(tokens), int(people)) for campaign_id, tokens, people in rows}


def close_voting(session: Session, *, actor: User | None, now: datetime | None = None) -> Campaign | None:
    """Count the votes of every campaign whose voting has closed: the one with the most
    tokens pledged (then most people, then the earliest) is chosen for its organiser to
    launch; the others go back to proposed. Returns the chosen one, if any closed.
    `actor` None is the scheduled command; a person must be an organiser."""
    if actor is not None and not actor.is_organiser:
        raise Forbidden("count the votes", "organisers do that.")
    now = now or utcnow()
    closed = session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.voting.value,
                                                    Campaign.voting_closes_at <= now)
                             .order_by(Campaign.id).with_for_update()).all()
    if not closed:
        return None
    totals = pledge_totals(session, [c.id for c in closed])
    chosen = max(closed, key=lambda c: (*totals.get(c.id, (0, 0)), -c.created_at.timestamp(), -c.id))
    for campaign in closed:
        campaign.status = CampaignStatus.proposed.value
    chosen.chosen_at = now
    session.flush()
    return chosen


def launch(session: Session, *, actor: User, campaign: Campaign, ends_at: datetime | None = None,
           now: datetime | None = None) -> Campaign:
    """The organiser of the campaign the community chose starts it (active from now)."""
    if actor.id != campaign.organiser_id and not actor.is_admin:
        raise Forbidden("launch this campaign", "only its organiser launches it.")
    if campaign.status != CampaignStatus.proposed.value or campaign.chosen_at is None:
        raise NotLaunchable(campaign.id, "only the campaign the community chose is launched, once.")
    now = now or utcnow()
    ends_at = as_utc(ends_at) or campaign.ends_at
    if ends_at <= now:
        raise ValidationFailed({"ends_at": ["Its end date has passed: give a new one in the future."]})
    campaign.ends_at = ends_at
    campaign.starts_at = max(as_utc(campaign.starts_at) or now, now)
    campaign.status = CampaignStatus.active.value
    session.flush()
    return campaign


def finish_due(session: Session, *, now: datetime | None = None) -> int:
    """Mark active campaigns whose window has closed as finished; returns how many."""
    now = now or utcnow()
    due = session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.active.value,
                                                 Campaign.ends_at <= now)).all()
    for campaign in due:
        campaign.status = CampaignStatus.finished.value
    session.flush()
    return len(due)


# --- lists ---------------------------------------------------------------------------------

def campaigns_by_phase(session: Session, *, now: datetime | None = None) -> dict[str, list[Campaign]]:
    now = now or utcnow()
    found: dict[str, list[Campaign]] = {s.value: [] for s in CampaignStatus}
    for campaign in session.scalars(select(Campaign).order_by(Campaign.ends_at, Campaign.id)):
        found[phase(campaign, now)].append(campaign)
    found[CampaignStatus.finished.value].reverse()  # the most recent first
    return found


def campaigns_select(*, phase: str | None = None, now: datetime | None = None) -> Select:
    """Campaigns in one phase as people see it (see `phase`: an active campaign whose window
    closed counts as finished), ending soonest first; finished ones, the latest first."""
    now = now or utcnow()
    active = Campaign.status == CampaignStatus.active.value
    stmt = select(Campaign)
    if phase == CampaignStatus.active.value:
        stmt = stmt.where(active, Campaign.ends_at > now)
    elif phase == CampaignStatus.finished.value:
        stmt = stmt.where(or_(Campaign.status == CampaignStatus.finished.value, and_(active, Campaign.ends_at <= now)))
        return stmt.order_by(Campaign.ends_at.desc(), Campaign.id.desc())
    elif phase is not None:
        stmt = stmt.where(Campaign.status == phase)
    return stmt.order_by(Campaign.ends_at, Campaign.id)


def progress_of_many(session: Session, campaigns: Sequence[Campaign]) -> dict[int, int]:
    """Progress of each campaign on a list, in one query (a UNION ALL of each one's count),
    so a list's queries do not grow with its campaigns."""
    if not campaigns:
        return {}
    counts = [_campaign_fixes(campaign, literal(campaign.id).label("campaign_id"),
                              func.count(func.distinct(Problem.id)).label("fixed"))
              for campaign in campaigns]
    rows = session.execute(union_all(*counts) if len(counts) > 1 else counts[0]).all()
    return {campaign_id: int(fixed or 0) for campaign_id, fixed in rows}


def town_totals(session: Session) -> tuple[int, float]:
    """(problems ever fixed, volunteer hours ever logged), for the whole town."""
    fixed = session.scalar(select(func.count(func.distinct(Quest.problem_id))).select_from(Claim)
                           .join(Quest, Quest.id == Claim.quest_id)
                           .where(Claim.status == ClaimStatus.approved.value, Quest.problem_id.is_not(None)))
    hours = session.scalar(select(func.coalesce(func.sum(ClaimHours.hours), 0)).join(Claim, Claim.id == ClaimHours.claim_id)
                           .where(Claim.status == ClaimStatus.approved.value))
    return int(fixed or 0), float(hours or 0)
