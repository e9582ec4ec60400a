"""The one declarative catalogue of open datasets.

Each Dataset names its fields (with a type and a meaning), its formats, and two functions:
`rows(session, now=, zone=)` yields tuples in field order (streamed with server-side cursors, so a
million problems never sit in memory at once) and `updated(session)` returns the newest
relevant row's timestamp. Privacy rules live here, next to the queries they constrain:
no emails ever; no child (`is_child`) and nobody `hidden_from_boards` by name; class teams
only when their teacher shows the class in rankings; merged problems and the still-secret
quests of events not yet started are left out.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from accounts.models import User
from campaigns import services as campaigns
from campaigns.models import Campaign, CampaignMilestone
from challenges.models import Claim, ClaimStatus, Problem, Quest, QuestStatus
from events.guards import hidden_quest_ids
# The board's own privacy filters, reused so the open data can never disagree with the boards.
from moderation.models import PUBLIC
from scoring.leaderboards import FORMER_NAMES, Calendar, member_profile, totals_select, visible_conditions
from scoring.models import LedgerEntry
from scoring.windows import ALL_TIME, season_window
from timeutil import as_utc, isoformat, utcnow

YIELD_PER = 1000  # rows fetched per round trip from a server-side cursor


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # integer, number, string, datetime (ISO 8601 UTC), date
    meaning: str


@dataclass(frozen=True)
class Dataset:
    id: str
    title: str
    description: str
    formats: tuple[str, ...]
    fields: tuple[Field, ...]
    rows: Callable[..., Iterator[tuple]]  # rows(session, *, now, zone)
    updated: Callable[[Session], datetime | None]

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


def stream(session: Session, stmt: Select) -> Iterator:
    """Rows of `stmt` through a server-side cursor, YIELD_PER at a time."""
    yield from session.execute(stmt.execution_options(yield_per=YIELD_PER))


def _newest(session: Session, column, *where) -> datetime | None:
    return as_utc(session.scalar(select(func.max(column)).where(*where)))


# --- problems ------------------------------------------------------------------------------

def _problems_select() -> Select:
    return (select(Problem.id, Problem.title, Problem.category, Problem.status, Problem.lat, Problem.lon,
                   Problem.created_at, Problem.updated_at)
            .where(Problem.merged_into_id.is_(None), Problem.visibility == PUBLIC).order_by(Problem.id))


def problem_rows(session: Session, *, now: datetime, zone: str) -> Iterator[tuple]:
    for row in stream(session, _problems_select()):
        yield (row.id, row.title, row.category, row.status, row.lat, row.lon,
               isoformat(row.created_at), isoformat(row.updated_at))


def problems_updated(session: Session) -> datetime | None:
    return _newest(session, Problem.updated_at, Problem.merged_into_id.is_(None), Problem.visibility == PUBLIC)


# --- quests --------------------------------------------------------------------------------

def _public_quests(now: datetime) -> list:
    return [Quest.status == QuestStatus.published.value, Quest.id.not_in(hidden_quest_ids(now))]


def _public_name():
    """An organiser's display name, or nothing for a child or someone hidden from boards."""
    return func.coalesce(
        select(User.display_name).where(User.id == Quest.created_by_id, ~User.unnamed_in_public)
        .scalar_subquery(), "")


def quest_rows(session: Session, *, now: datetime, zone: str) -> Iterator[tuple]:
    stmt = (select(Quest.id, Quest.title, Quest.points, Quest.difficulty, Quest.mode, Quest.starts_at,
                   Quest.ends_at, Quest.problem_id, _public_name().label("organiser"), Quest.created_at)
            .where(*_public_quests(now)).order_by(Quest.id))
    for row in stream(session, stmt):
        yield (row.id, row.title, row.points, row.difficulty, row.mode, isoformat(row.starts_at),
               isoformat(row.ends_at), row.problem_id, row.organiser, isoformat(row.created_at))


def quests_updated(session: Session) -> datetime | None:
    return _newest(session, Quest.created_at, *_public_quests(utcnow()))


# --- fixes ---------------------------------------------------------------------------------

def _days(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((as_utc(end) - as_utc(start)).total_seconds() / 86400, 2)


def fix_rows(session: Session, *, now: datetime, zone: str) -> Iterator[tuple]:
    """Approved claims: which quest and problem, when reported, when fixed. No people."""
    stmt = (select(Claim.id, Claim.quest_id, Quest.problem_id, Problem.category, Problem.created_at,
                   Claim.decided_at)
            .join(Quest, Quest.id == Claim.quest_id).outerjoin(Problem, Problem.id == Quest.problem_id)
            .where(Claim.status == ClaimStatus.approved.value, *_public_quests(now),
                   or_(Problem.id.is_(None), Problem.visibility == PUBLIC)).order_by(Claim.id))
    for row in stream(session, stmt):
        yield (row.id, row.quest_id, row.problem_id, row.category, isoformat(row.created_at),
               isoformat(row.decided_at), _days(row.created_at, row.decided_at))


def fixes_updated(session: Session) -> datetime | None:
    return _newest(session, Claim.decided_at, Claim.status == ClaimStatus.approved.value)


# --- leaderboards --------------------------------------------------------------------------

def _board_select(board: str, window):
    """One board's standings, best first, through the leaderboard's own hidden filters
    (scoring.leaderboards: children and people hidden from boards; class teams whose teacher
    does not show them). The same query as SqlLeaderboard.top without the page, so a board
    of a million streams in one pass instead of a page per offset."""
    t = totals_select(board, window).subquery("totals")
    model, id_column, name_column, _ = member_profile(board)
    return (select(t.c.points, name_column.label("name"))
            .select_from(t.outerjoin(model, id_column == t.c.member_id))
            .where(*visible_conditions(board, t.c.member_id))
            .order_by(t.c.points.desc(), t.c.last_id.asc()))


def leaderboard_rows(session: Session, *, now: datetime, zone: str) -> Iterator[tuple]:
    """Team boards and participant boards, all time and per season."""
    calendar = Calendar(lambda: session.get_bind(), zone=zone, clock=lambda: now)
    windows = [ALL_TIME] + [season_window(s, calendar.zone) for s in calendar.seasons(session.connection())]
    for board in ("teams", "participants"):
        for window in windows:
            for rank, row in enumerate(stream(session, _board_select(board, window)), start=1):
                yield board, window.key, window.label, rank, row.name or FORMER_NAMES[board], int(row.points)


def leaderboards_updated(session: Session) -> datetime | None:
    return _newest(session, LedgerEntry.created_at)


# --- campaign progress ---------------------------------------------------------------------

def campaign_rows(session: Session, *, now: datetime, zone: str) -> Iterator[tuple]:
    for campaign in session.scalars(select(Campaign).order_by(Campaign.id)):
        count = campaigns.progress(session, campaign)
        reached = {m.percent: m.reached_at for m in campaigns.milestones_of(session, [campaign.id])[campaign.id]}
        yield (campaign.id, campaign.title, campaign.goal, count, campaigns.percent(count, campaign.goal),
               campaigns.phase(campaign, now), isoformat(campaign.starts_at), isoformat(campaign.ends_at),
               *(isoformat(reached.get(p)) for p in (25, 50, 75, 100)))


def campaigns_updated(session: Session) -> datetime | None:
    """The newest campaign, milestone or approved fix (any fix may move a campaign's count)."""
    times = [_newest(session, Campaign.created_at), _newest(session, CampaignMilestone.reached_at),
             fixes_updated(session)]
    times = [t for t in times if t is not None]
    return max(times) if times else None


# --- the catalogue -------------------------------------------------------------------------

_WHEN = "(ISO 8601, UTC)"

CATALOGUE: tuple[Dataset, ...] = (
    Dataset(
        "problems", "Problems",
        "Every public problem report (merged duplicates left out), with its place in WGS84.",
        ("csv", "geojson"),
        (Field("id", "integer", "The problem's id; its page is /problems/<id>."),
         Field("title", "string", "The reporter's short title."),
         Field("category", "string", "The kind of problem, e.g. pothole."),
         Field("status", "string", "open, confirmed, in_progress, fixed or closed."),
         Field("lat", "number", "Latitude, WGS84 degrees."),
         Field("lon", "number", "Longitude, WGS84 degrees."),
         Field("created", "datetime", f"When it was reported {_WHEN}."),
         Field("updated", "datetime", f"When it last changed {_WHEN}.")),
        problem_rows, problems_updated),
    Dataset(
        "quests", "Quests",
        "Published quests (the secret quests of events not yet started are left out).",
        ("csv", "json"),
        (Field("id", "integer", "The quest's id."),
         Field("title", "string", "The quest's title."),
         Field("points", "integer", "Points on offer before difficulty multipliers."),
         Field("difficulty", "string", "easy, medium or hard."),
         Field("mode", "string", "solo or team."),
         Field("starts", "datetime", f"When it opens {_WHEN}; empty: already open."),
         Field("ends", "datetime", f"When it closes {_WHEN}; empty: no deadline."),
         Field("problem_id", "integer", "The problem it was made from; empty: none."),
         Field("organiser", "string", "The organiser's public display name."),
         Field("created", "datetime", f"When it was made {_WHEN}.")),
        quest_rows, quests_updated),
    Dataset(
        "fixes", "Fixes and time to fix",
        "Approved claims (fixes): the quest, the problem, and how long from report to fix. No people.",
        ("csv",),
        (Field("claim_id", "integer", "The approved claim's id."),
         Field("quest_id", "integer", "The quest it completed."),
         Field("problem_id", "integer", "The problem fixed; empty: a quest without a problem."),
         Field("category", "string", "The problem's category."),
         Field("reported_at", "datetime", f"When the problem was reported {_WHEN}."),
         Field("fixed_at", "datetime", f"When the fix was approved {_WHEN}."),
         Field("days_to_fix", "number", "Days from report to approved fix, two decimals.")),
        fix_rows, fixes_updated),
    Dataset(
        "leaderboards", "Leaderboards",
        "Team and participant rankings, all time and per season. Only adults who show on boards "
        "are named; children never appear; school classes only when their teacher shows them.",
        ("csv",),
        (Field("board", "string", "teams or participants."),
         Field("window", "string", "all, or season:<id>."),
         Field("window_name", "string", "All time, or the season's name."),
         Field("rank", "integer", "1 is first; ties are broken by who got there first."),
         Field("name", "string", "The team's name or the participant's public display name."),
         Field("points", "integer", "Points in the window, from the ledger.")),
        leaderboard_rows, leaderboards_updated),
    Dataset(
        "campaigns", "Campaign progress",
        "Every campaign's goal and progress, with the dates its milestones were reached.",
        ("csv",),
        (Field("id", "integer", "The campaign's id."),
         Field("title", "string", "The campaign's title."),
         Field("goal", "integer", "Problems to fix."),
         Field("count", "integer", "Problems fixed so far in its area and window."),
         Field("percent", "integer", "count / goal, as a whole percentage capped at 100."),
         Field("status", "string", "proposed, voting, active or finished."),
         Field("starts", "datetime", f"When it starts counting {_WHEN}."),
         Field("ends", "datetime", f"When it stops counting {_WHEN}."),
         *(Field(f"reached_{p}", "datetime", f"When it reached {p}% {_WHEN}; empty: not yet.")
           for p in (25, 50, 75, 100))),
        campaign_rows, campaigns_updated),
)

BY_ID = {dataset.id: dataset for dataset in CATALOGUE}
