"""Leaderboards: one interface, two backends.

* SqlLeaderboard derives standings from the ledger on every read. Always available.
* RedisLeaderboard keeps sorted sets per (board, scope, window), written after each ledger
  commit and rebuildable from the ledger at any time. If Redis fails, it answers from SQL.

Ranking rule (both backends): more points first; on equal points, whoever reached the
score first, i.e. whose latest ledger entry in the window is older (lower id), ranks higher.

A board is "participants" or "teams". A window (scoring.windows) picks the ledger rows by
time: all-time, this week, this month, a season. A scope narrows a board to some members:
`Scope("team", 7)` is the participants who are members of team 7, each ranked by their own
points. Participants with `hidden_from_boards`, and children (`is_child`), are left out of
public lists (top, around, count); `standing_of` still gives them their own rank, counted
among the visible members.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic as _monotonic
from typing import Protocol
from zoneinfo import ZoneInfo

import redis
from flask import current_app, has_app_context
from sqlalchemy import Engine, and_, case, func, literal, or_, select, true, union_all
from sqlalchemy.orm import Session

from accounts.models import Team, TeamMembership, User
from classes.models import SchoolClass
from errors import Forbidden, NotFound, ValidationFailed
from scoring import windows
from scoring.models import LedgerEntry, Season
from scoring.windows import ALL_TIME, SeasonDates, Window
from timeutil import utcnow

log = logging.getLogger(__name__)

BOARDS = ("participants", "teams")
_MEMBER_COLUMN = {"participants": LedgerEntry.user_id, "teams": LedgerEntry.team_id}
FORMER_NAMES = {"participants": "a former participant", "teams": "a former team"}
DEFAULT_ZONE = "Europe/London"
MAX_ROW_ID = 2**31 - 1  # users.id and teams.id are INTEGER columns: a larger id is nobody
# A ledger row written just before a window ends still reaches that window's projection if
# its after-commit refresh runs within this long after the end.
REFRESH_GRACE = timedelta(minutes=10)
# After a (re)build, members whose rows or memberships are younger than the build's start
# minus this margin are refreshed again, so writes racing the build are never lost.
CATCH_UP_MARGIN = timedelta(seconds=60)

WindowLike = str | Window


@dataclass(frozen=True)
class Standing:
    rank: int
    member_id: int
    points: int
    name: str = ""
    hidden: bool = False  # only ever True in a member's own standing


@dataclass(frozen=True)
class Around:
    """A member's standing with up to `span` visible members above and below, in rank order."""

    me: Standing
    above: list[Standing]
    below: list[Standing]

    @property
    def rows(self) -> list[Standing]:
        return [*self.above, self.me, *self.below]


class UnknownBoard(ValueError):
    def __init__(self, board: str):
        super().__init__(f"No leaderboard called {board!r}; choose one of {', '.join(BOARDS)}.")
        self.board = board


class UnknownScope(ValidationFailed):
    """A scope the board does not have (a team scope on the teams board) or whose group does
    not exist; `fields` names the request parameter (team_id)."""

    def __init__(self, param: str, message: str):
        super().__init__({param: [message]})
        self.param = param


class NotOnBoard(NotFound):
    def __init__(self, board: str, member_id: int):
        super().__init__(f"{board[:-1]} on this leaderboard", member_id)


def _member_column(board: str):
    try:
        return _MEMBER_COLUMN[board]
    except KeyError:
        raise UnknownBoard(board) from None


# --- scopes ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """A sub-board: `kind` names a ScopeKind in SCOPE_KINDS, `id` the group (a team id)."""

    kind: str
    id: int

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


class ScopeKind:
    """How one kind of scope narrows a board. A kind narrows by membership: its members'
    standings in a scope are their standings on the whole board, so the Redis projection
    copies them into the scope's keys. Later kinds (class, event, campaign) subclass this; one
    that filters ledger rows rather than members (an event's quests) also needs its own
    totals in RedisLeaderboard.refresh."""

    kind: str
    param: str                  # the request parameter naming a group, e.g. "team_id"
    boards: tuple[str, ...]     # the boards it applies to
    projected: bool = True      # False: the Redis projection keeps no copy; reads go to SQL
    by_rows: bool = False       # True: filters ledger rows (its own totals), not members

    def ledger_filter(self, scope_id: int):
        """SQL condition on ledger_entries: the rows that count in this scope."""
        raise NotImplementedError

    def exists(self, conn, scope_id: int) -> bool:
        raise NotImplementedError

    def groups_of(self, conn, member_ids: Iterable[int] | None = None) -> list[tuple[int, int]]:
        """(member_id, scope_id) pairs, for the given members or all of them."""
        raise NotImplementedError

    def all_ids(self, conn) -> list[int]:
        raise NotImplementedError


class TeamScope(ScopeKind):
    kind, param, boards = "team", "team_id", ("participants",)

    def ledger_filter(self, scope_id: int):
        return LedgerEntry.user_id.in_(select(TeamMembership.user_id).where(TeamMembership.team_id == scope_id))

    def exists(self, conn, scope_id: int) -> bool:
        return scope_id <= MAX_ROW_ID and conn.execute(select(Team.id).where(Team.id == scope_id)).first() is not None

    def groups_of(self, conn, member_ids=None):
        stmt = select(TeamMembership.user_id, TeamMembership.team_id)
        if member_ids is not None:
            stmt = stmt.where(TeamMembership.user_id.in_(list(member_ids)))
        return [(row.user_id, row.team_id) for row in conn.execute(stmt)]

    def all_ids(self, conn):
        return list(conn.execute(select(Team.id).order_by(Team.id)).scalars())


class ClassScope(ScopeKind):
    """A school class's children (the members of the class's team), by class id. Its boards
    are private (children are hidden from public boards): classes.services.class_board
    reads them for the teacher and the class's own children."""

    kind, param, boards = "class", "class_id", ("participants",)

    def _members(self):
        return select(TeamMembership.user_id, SchoolClass.id.label("class_id")).join(
            SchoolClass, SchoolClass.team_id == TeamMembership.team_id)

    def ledger_filter(self, scope_id: int):
        members = self._members().subquery()
        return LedgerEntry.user_id.in_(select(members.c.user_id).where(members.c.class_id == scope_id))

    def exists(self, conn, scope_id: int) -> bool:
        return scope_id <= MAX_ROW_ID and conn.execute(
            select(SchoolClass.id).where(SchoolClass.id == scope_id)).first() is not None

    def groups_of(self, conn, member_ids=None):
        members = self._members().subquery()
        stmt = select(members.c.user_id, members.c.class_id)
        if member_ids is not None:
            stmt = stmt.where(members.c.user_id.in_(list(member_ids)))
        return [(row.user_id, row.class_id) for row in conn.execute(stmt)]

    def all_ids(self, conn):
        return list(conn.execute(select(SchoolClass.id).order_by(SchoolClass.id)).scalars())


class EventScope(ScopeKind):
    """An event's board: only what its registered entries earned on its quests (the award,
    rescore and reversal rows of their claims) while it ran, [starts_at, ends_at); a caller
    wanting the board as of a moment (a freeze) passes a window ending then. It filters
    ledger rows rather than members, so the Redis projection cannot copy whole-board
    standings into it: it is not projected, and reads answer from SQL (an event has dozens
    of entries, read by one indexed join)."""

    kind, param, boards = "event", "event_id", ("participants", "teams")
    projected = False

    def ledger_filter(self, scope_id: int):
        from challenges.models import Claim
        from events.models import Event, EventEntry, EventQuest

        entrant = or_(EventEntry.team_id == Claim.team_id,
                      and_(Claim.team_id.is_(None), EventEntry.user_id == Claim.user_id))
        claims = (select(Claim.id)
                  .join(EventQuest, and_(EventQuest.quest_id == Claim.quest_id, EventQuest.event_id == scope_id))
                  .join(EventEntry, and_(EventEntry.event_id == scope_id, entrant)))
        starts = select(Event.starts_at).where(Event.id == scope_id).scalar_subquery()
        ends = select(Event.ends_at).where(Event.id == scope_id).scalar_subquery()
        return and_(LedgerEntry.kind.in_(("award", "rescore", "reversal")), LedgerEntry.claim_id.in_(claims),
                    LedgerEntry.created_at >= starts, LedgerEntry.created_at < ends)

    def exists(self, conn, scope_id: int) -> bool:
        from events.models import Event

        return scope_id <= MAX_ROW_ID and conn.execute(select(Event.id).where(Event.id == scope_id)).first() is not None

    def groups_of(self, conn, member_ids=None):
        return []

    def all_ids(self, conn):
        return []


def _request_campaigns() -> dict:
    """This request's campaign definitions by id (empty outside a request)."""
    from flask import has_request_context, request

    return request.environ.setdefault("fixquest.campaign_scopes", {}) if has_request_context() else {}


def remember_campaign(campaign) -> None:
    """A page that has loaded a campaign hands it to the campaign scope for this request."""
    _request_campaigns()[campaign.id] = campaign


class CampaignScope(ScopeKind):
    """A campaign's board: participants and teams ranked by the points of the fixes that
    count towards the campaign, by the campaign's own definition (campaigns.services): the
    award, rescore and reversal rows of approved claims on quests made from problems in its
    area and categories, decided inside its window. A reversed claim stops counting, so its
    people leave the board (unless other fixes keep them on it). Windows (week, month,
    season) narrow the rows further by when they were written.

    It filters ledger rows, so the Redis projection keeps its own totals per campaign
    (`window_totals`), for every campaign that has started; written after commit like the
    rest, rebuilt and verified by `flask scoring rebuild/verify`."""

    kind, param, boards = "campaign", "campaign_id", ("participants", "teams")
    by_rows = True
    KINDS = ("award", "rescore", "reversal")

    @staticmethod
    def _campaigns(conn, ids: Iterable[int] | None = None, *, started: bool = False) -> list:
        """Transient Campaign objects (their fields only: nothing attached to a session)."""
        from campaigns.models import Campaign

        table = Campaign.__table__
        stmt = select(table).order_by(table.c.id)
        if ids is not None:
            stmt = stmt.where(table.c.id.in_([i for i in ids if 0 < i <= MAX_ROW_ID]))
        if started:
            stmt = stmt.where(table.c.starts_at.is_not(None))
        return [Campaign(**row._mapping) for row in conn.execute(stmt)]

    def _definition(self, scope_id: int):
        """The campaign whose definition is the filter, read once per request: a campaign
        page asks for two boards and the reader's place, each through ledger_filter."""
        from extensions import db

        cache = _request_campaigns()
        if scope_id not in cache:
            with db.engine.connect() as conn:
                found = self._campaigns(conn, [scope_id])
            cache[scope_id] = found[0] if found else None
        return cache[scope_id]

    def ledger_filter(self, scope_id: int):
        from campaigns import services as campaigns

        campaign = self._definition(scope_id)
        if campaign is None:
            raise UnknownScope(self.param, f"No campaign with id {scope_id}.")
        return and_(LedgerEntry.kind.in_(self.KINDS),
                    LedgerEntry.claim_id.in_(campaigns.counted_claims_select(campaign)))

    def exists(self, conn, scope_id: int) -> bool:
        """Always asked after ledger_filter, which reads the campaign (its definition is the
        filter) and raises UnknownScope when there is none: one read, not two."""
        return 0 < scope_id <= MAX_ROW_ID

    def window_totals(self, conn, board: str, live: list[Window], member_ids: Iterable[int]
                      ) -> dict[tuple[int, int], dict[str, tuple[int, int, int]]]:
        """{(member, campaign id): {window key: (points, last_id, entries)}} for the members
        with any payout on a claim in a started campaign's place; a pair whose claims no
        longer count (reversed) has an empty dict: the projection removes it. One statement
        (a part per campaign), none without campaigns."""
        from campaigns import services as campaigns
        from challenges.models import Claim, Problem, Quest

        member_ids = sorted(member_ids)
        found = self._campaigns(conn, started=True) if member_ids else []
        if not found:
            return {}
        member = _member_column(board)
        parts = []
        for campaign in found:
            counted = and_(LedgerEntry.kind.in_(self.KINDS), *campaigns.counted_claim_filters(campaign))
            columns = [literal(campaign.id).label("scope_id"), member.label("member_id")]
            for i, window in enumerate(live):
                inside = and_(counted, *_window_conditions(window))
                columns += [func.sum(case((inside, LedgerEntry.amount))).label(f"p{i}"),
                            func.max(case((inside, LedgerEntry.id))).label(f"l{i}"),
                            func.count(case((inside, LedgerEntry.id))).label(f"n{i}")]
            parts.append(select(*columns).select_from(LedgerEntry)
                         .join(Claim, Claim.id == LedgerEntry.claim_id)
                         .join(Quest, Quest.id == Claim.quest_id)
                         .join(Problem, Problem.id == Quest.problem_id)
                         .where(member.in_(member_ids), *campaigns.place_filters(campaign))
                         .group_by(member))
        totals: dict[tuple[int, int], dict[str, tuple[int, int, int]]] = {}
        for row in conn.execute(union_all(*parts) if len(parts) > 1 else parts[0]):
            values = row._mapping
            totals[(row.member_id, row.scope_id)] = {
                window.key: (int(values[f"p{i}"]), values[f"l{i}"], values[f"n{i}"])
                for i, window in enumerate(live) if values[f"n{i}"]}
        return totals

    def groups_of(self, conn, member_ids=None):
        """(participant, campaign) pairs on a campaign's board (erasure removes them)."""
        if member_ids is None:
            return []
        live = [ALL_TIME]
        return [pair for pair, windows_ in self.window_totals(conn, "participants", live, member_ids).items()
                if windows_]

    def all_ids(self, conn):
        """The campaigns the projection keeps: those that have started."""
        return [c.id for c in self._campaigns(conn, started=True)]


SCOPE_KINDS: dict[str, ScopeKind] = {"team": TeamScope(), "class": ClassScope(), "event": EventScope(),
                                     "campaign": CampaignScope()}


def team_scope(team_id: int | None) -> Scope | None:
    return Scope("team", team_id) if team_id else None


def scope_kind(board: str, scope: Scope) -> ScopeKind:
    """The scope's kind, checked against the board (UnknownScope if it does not apply)."""
    kind = SCOPE_KINDS.get(scope.kind)
    if kind is None:
        raise UnknownScope("scope", f"No scope kind {scope.kind!r}.")
    if board not in kind.boards:
        raise UnknownScope(kind.param, f"A {scope.kind} scope applies to the {' and '.join(kind.boards)} "
                                       f"board only, not {board}.")
    return kind


def _check(board: str, scope: Scope | None) -> ScopeKind | None:
    _member_column(board)
    return None if scope is None else scope_kind(board, scope)


# --- the calendar: window names to windows ------------------------------------------------

class Calendar:
    """Turns window names into Windows: a clock, the site's zone and the seasons table.
    Only season names need SQL; "week", "month" and "all" are pure."""

    def __init__(self, engine_factory: Callable[[], Engine], *, zone: str | None = None,
                 clock: Callable[[], datetime] | None = None):
        self._engine_factory = engine_factory
        self._zone = zone
        self.clock = clock or utcnow
        self._current: dict[tuple[str, str], Window] = {}

    @property
    def zone(self) -> ZoneInfo:
        name = self._zone
        if name is None and has_app_context():
            name = current_app.config.get("TIMEZONE")
        return windows.zone_named(name or DEFAULT_ZONE)

    def now(self) -> datetime:
        return self.clock()

    def seasons(self, conn=None) -> list[SeasonDates]:
        stmt = select(Season.id, Season.name, Season.starts_on, Season.ends_on).order_by(Season.starts_on, Season.id)
        if conn is None:
            with self._engine_factory().connect() as own:
                rows = own.execute(stmt).all()
        else:
            rows = conn.execute(stmt).all()
        return [SeasonDates(r.id, r.name, r.starts_on, r.ends_on) for r in rows]

    def season(self, season_id: int) -> SeasonDates | None:
        with self._engine_factory().connect() as conn:
            row = conn.execute(select(Season.id, Season.name, Season.starts_on, Season.ends_on)
                               .where(Season.id == season_id)).first()
        return None if row is None else SeasonDates(row.id, row.name, row.starts_on, row.ends_on)

    def resolve(self, window: WindowLike) -> Window:
        if isinstance(window, Window):
            return window
        return windows.resolve(window, now=self.now(), zone=self.zone, season=self.season)

    def key_of(self, window: WindowLike) -> str:
        """The storage key, without any lookup (UnknownWindow for a malformed name). The
        current week and month are remembered until they end: this runs on every read."""
        if isinstance(window, Window):
            return window.key
        if window in ("week", "month"):
            now, zone = self.now(), self.zone
            known = self._current.get((window, zone.key))
            if known is None or not known.contains(now):
                known = (windows.week_containing if window == "week" else windows.month_containing)(now, zone)
                self._current[(window, zone.key)] = known
            return known.key
        return windows.storage_key(window, now=self.now(), zone=self.zone)

    def live(self, conn=None) -> list[Window]:
        """The windows new ledger rows can fall in (see windows.live_windows)."""
        return windows.live_windows(now=self.now(), zone=self.zone, seasons=self.seasons(conn), grace=REFRESH_GRACE)

    def closed_seasons(self, conn=None) -> list[Window]:
        now, zone = self.now(), self.zone
        return [w for w in (windows.season_window(s, zone) for s in self.seasons(conn))
                if w.ends_at is not None and w.ends_at <= now - REFRESH_GRACE]


class Leaderboard(Protocol):
    name: str
    calendar: Calendar

    def top(self, board: str, *, window: WindowLike = "all", scope: Scope | None = None,
            limit: int = 10, offset: int = 0) -> list[Standing]: ...

    def standing_of(self, board: str, member_id: int, *, window: WindowLike = "all",
                    scope: Scope | None = None) -> Standing | None:
        """The member's own standing, hidden or not (never show a hidden one to others)."""

    def around(self, board: str, member_id: int, *, window: WindowLike = "all", scope: Scope | None = None,
               span: int = 2, include_hidden: bool = False) -> Around | None:
        """The member with `span` visible members above and below; None if not on the board
        (or hidden, unless include_hidden: for the member themselves)."""

    def count(self, board: str, window: WindowLike = "all", scope: Scope | None = None) -> int:
        """Visible members on the board, for pagination."""

    def refresh(self, members: Iterable[tuple[str, int]]) -> None:
        """Bring these (board, member_id) pairs up to date after a ledger commit (or a
        change of name)."""

    def reshaped(self, *, visibility: Iterable[int] = (), joined: Iterable[tuple[Scope, int]] = (),
                 left: Iterable[tuple[Scope, int]] = ()) -> None:
        """Participants whose standing moved without a ledger row: hidden or shown again,
        joined or left a scope's group."""

    def erased(self, user_ids: Iterable[int]) -> None:
        """Participants whose accounts were deleted (after commit): nothing of them may stay
        in the projection. Their scopes are left through `reshaped(left=...)`."""

    def rebuild(self) -> int:
        """Recompute the whole projection from the ledger; returns standings written."""


# --- SQL ----------------------------------------------------------------------------------

def _window_conditions(window: Window) -> list:
    conditions = []
    if window.starts_at is not None:
        conditions.append(LedgerEntry.created_at >= window.starts_at)
    if window.ends_at is not None:
        conditions.append(LedgerEntry.created_at < window.ends_at)
    return conditions


def totals_select(board: str, window: Window = ALL_TIME, scope: Scope | None = None):
    """(member_id, points, last_id, entries) per member of a board, within a window and scope."""
    member = _member_column(board)
    stmt = (select(member.label("member_id"),
                   func.sum(LedgerEntry.amount).label("points"),
                   func.max(LedgerEntry.id).label("last_id"),
                   func.count(LedgerEntry.id).label("entries"))
            .where(member.is_not(None), *_window_conditions(window)))
    if scope is not None:
        stmt = stmt.where(scope_kind(board, scope).ledger_filter(scope.id))
    return stmt.group_by(member)


def _hidden_ids():
    # Nobody unnamed in public is on a public board: children whatever hidden_from_boards
    # says, people who opted out, profiles a moderator hid (moderation/).
    return select(User.id).where(User.unnamed_in_public)


def _hidden_team_ids():
    """Private class teams (accounts.services.private_class_team_ids: school classes' teams,
    unless their teacher chose to show the class in public)."""
    from accounts.services import private_class_team_ids

    return private_class_team_ids()


def visible_conditions(board: str, member_id_column) -> list:
    """WHERE conditions keeping a board's public members: every public list of standings
    (the pages, the API, the open data) filters with these, so none can disagree."""
    hidden = _hidden_ids() if board == "participants" else _hidden_team_ids()
    return [member_id_column.not_in(hidden)]


def member_profile(board: str):
    """(model, id column, public name column, hidden column) for a board's members."""
    if board == "participants":
        return User, User.id, User.display_name, User.unnamed_in_public
    return Team, Team.id, Team.name, Team.id.in_(_hidden_team_ids())


def _ahead_of(t, points, last_id):
    return or_(t.c.points > points, and_(t.c.points == points, t.c.last_id < last_id))


def _behind(t, points, last_id):
    return or_(t.c.points < points, and_(t.c.points == points, t.c.last_id > last_id))


class SqlLeaderboard:
    name = "sql"

    def __init__(self, engine_factory: Callable[[], Engine], *, zone: str | None = None,
                 clock: Callable[[], datetime] | None = None):
        self._engine_factory = engine_factory  # callable returning the app's Engine
        self.calendar = Calendar(engine_factory, zone=zone, clock=clock)

    @property
    def engine(self) -> Engine:
        return self._engine_factory()

    def _scope_check(self, conn, board: str, scope: Scope | None) -> None:
        kind = _check(board, scope)
        if kind is not None and not kind.exists(conn, scope.id):
            raise UnknownScope(kind.param, f"No {scope.kind} with id {scope.id}.")

    def top(self, board: str, *, window: WindowLike = "all", scope: Scope | None = None,
            limit: int = 10, offset: int = 0) -> list[Standing]:
        _check(board, scope)
        window = self.calendar.resolve(window)
        t = totals_select(board, window, scope).subquery("totals")
        page = (select(t.c.member_id, t.c.points, t.c.last_id).where(*visible_conditions(board, t.c.member_id))
                .order_by(t.c.points.desc(), t.c.last_id.asc()).limit(limit).offset(offset).subquery("page"))
        model, id_column, name_column, _ = member_profile(board)
        stmt = (select(page.c.member_id, page.c.points, name_column.label("name"))
                .select_from(page.outerjoin(model, id_column == page.c.member_id))
                .order_by(page.c.points.desc(), page.c.last_id.asc()))
        with self.engine.connect() as conn:
            self._scope_check(conn, board, scope)
            rows = conn.execute(stmt).all()
        return [Standing(offset + i + 1, row.member_id, int(row.points), row.name or FORMER_NAMES[board])
                for i, row in enumerate(rows)]

    def count(self, board: str, window: WindowLike = "all", scope: Scope | None = None) -> int:
        _check(board, scope)
        window = self.calendar.resolve(window)
        t = totals_select(board, window, scope).subquery("totals")
        with self.engine.connect() as conn:
            self._scope_check(conn, board, scope)
            return conn.execute(select(func.count()).select_from(t).where(*visible_conditions(board, t.c.member_id))).scalar_one()

    def standing_of(self, board: str, member_id: int, *, window: WindowLike = "all",
                    scope: Scope | None = None) -> Standing | None:
        found = self.around(board, member_id, window=window, scope=scope, span=0, include_hidden=True)
        return None if found is None else found.me

    def around(self, board: str, member_id: int, *, window: WindowLike = "all", scope: Scope | None = None,
               span: int = 2, include_hidden: bool = False) -> Around | None:
        """One statement: the member's row, the count of visible members ahead, and the
        nearest `span` visible rows on either side."""
        _check(board, scope)
        window = self.calendar.resolve(window)
        if not 0 < member_id <= MAX_ROW_ID:
            with self.engine.connect() as conn:
                self._scope_check(conn, board, scope)
            return None
        t = totals_select(board, window, scope).cte("totals")
        visible = visible_conditions(board, t.c.member_id)
        my_points = select(t.c.points).where(t.c.member_id == member_id).scalar_subquery()
        my_last = select(t.c.last_id).where(t.c.member_id == member_id).scalar_subquery()
        ahead = select(func.count()).select_from(t).where(*visible, _ahead_of(t, my_points, my_last)).scalar_subquery()
        parts = [select(literal(0).label("part"), t.c.member_id, t.c.points, t.c.last_id, ahead.label("ahead"))
                 .where(t.c.member_id == member_id)]
        if span > 0:
            above = (select(t.c.member_id, t.c.points, t.c.last_id).where(*visible, _ahead_of(t, my_points, my_last))
                     .order_by(t.c.points.asc(), t.c.last_id.desc()).limit(span).subquery("above"))
            below = (select(t.c.member_id, t.c.points, t.c.last_id).where(*visible, _behind(t, my_points, my_last))
                     .order_by(t.c.points.desc(), t.c.last_id.asc()).limit(span).subquery("below"))
            parts += [select(literal(part), s.c.member_id, s.c.points, s.c.last_id, literal(0))
                      for part, s in ((1, above), (2, below))]
        rows_of = union_all(*parts).subquery("rows_of")
        model, id_column, name_column, hidden_column = member_profile(board)
        stmt = (select(rows_of, name_column.label("name"), hidden_column.label("hidden"))
                .select_from(rows_of.outerjoin(model, id_column == rows_of.c.member_id)))
        with self.engine.connect() as conn:
            self._scope_check(conn, board, scope)
            rows = conn.execute(stmt).all()
        mine = next((r for r in rows if r.part == 0), None)
        if mine is None or (mine.hidden and not include_hidden):
            return None
        return _around_from(board, mine.ahead, bool(mine.hidden),
                            (mine.member_id, int(mine.points), mine.name),
                            _rank_order(rows, 1), _rank_order(rows, 2))

    def member_totals(self, board: str, member_ids: Iterable[int] | None = None, *,
                      window: Window = ALL_TIME, scope: Scope | None = None):
        stmt = totals_select(board, window, scope)
        if member_ids is not None:
            stmt = stmt.where(_member_column(board).in_(list(member_ids)))
        with self.engine.connect() as conn:
            return conn.execute(stmt).all()

    def refresh(self, members: Iterable[tuple[str, int]]) -> None:
        """Nothing to do: every read derives from the ledger."""

    def reshaped(self, *, visibility=(), joined=(), left=()) -> None:
        """Nothing to do: every read derives from the ledger."""

    def erased(self, user_ids: Iterable[int]) -> None:
        """Nothing to do: every read derives from the ledger."""

    def rebuild(self) -> int:
        return 0


def _rank_order(rows, part: int) -> list[tuple]:
    return sorted(((r.points, -r.last_id, r.member_id, r.name) for r in rows if r.part == part), reverse=True)


def _around_from(board: str, ahead: int, hidden: bool, me: tuple[int, int, str | None],
                 above: list[tuple], below: list[tuple]) -> Around:
    """`above` and `below` hold (points, -last_id, member_id, name) in rank order. `ahead`
    visible members precede the member, who is #ahead+1; the rows below keep their public
    ranks (a hidden member is not among the public ones, so the next one shares its number)."""
    rank = ahead + 1
    first_above = rank - len(above)
    above_rows = [Standing(first_above + i, member, int(points), name or FORMER_NAMES[board])
                  for i, (points, _, member, name) in enumerate(above)]
    first_below = rank + (0 if hidden else 1)
    below_rows = [Standing(first_below + i, member, int(points), name or FORMER_NAMES[board])
                  for i, (points, _, member, name) in enumerate(below)]
    member_id, points, name = me
    return Around(Standing(rank, member_id, points, name or FORMER_NAMES[board], hidden), above_rows, below_rows)


# --- Redis --------------------------------------------------------------------------------

# Score = points * 2**31 + (2**31 - 1 - last_entry_id): one number that sorts by points, then
# by who got there first. Exact in a double while |points| < 2**22 (4,194,304).
_SHIFT = 2**31
MAX_EXACT_POINTS = 2**22


def encode_score(points: int, last_id: int) -> int:
    return points * _SHIFT + (_SHIFT - 1 - last_id)


def decode_points(score: float | str) -> int:
    return int(float(score)) // _SHIFT


# Each board key set (one board, scope and window) is four keys:
#   <base>          sorted set of the visible members
#   <base>:hidden   sorted set of members hidden from public boards (for their own rank)
#   <base>:version  hash member -> number of ledger entries counted (compare-and-set)
#   <base>:ready    present once the set was built in full from the ledger; without it the
#                   set may be partial (Redis lost data, or the window is new) and reads go to SQL
# and display names live in one hash per board, <prefix>lb:names:<board>.

# Compare-and-set by version (the member's number of ledger entries in the window, which
# only grows): a refresh that read older data can never overwrite a newer one. Moves the
# member between the visible and hidden sets; a score of 'gone' removes the member from a
# scope that filters rows (a campaign whose only counted fix was reversed). Returns 1, 2 if the set is not built yet
# (the caller builds it), or 0 if the stored version was newer.
_WRITE = """
local current = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '-1')
if tonumber(ARGV[3]) < current then return 0 end
if ARGV[2] == 'gone' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  local into, out = KEYS[1], KEYS[2]
  if ARGV[4] == '1' then into, out = KEYS[2], KEYS[1] end
  redis.call('ZREM', out, ARGV[1])
  redis.call('ZADD', into, ARGV[2], ARGV[1])
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
if ARGV[5] ~= '0' then
  for i = 1, 3 do redis.call('EXPIREAT', KEYS[i], ARGV[5]) end
end
if redis.call('EXISTS', KEYS[4]) == 0 then return 2 end
return 1
"""

_NAMED_ROWS = """
local unpack = table.unpack or unpack
local function named(rows, names_key)
  local out = {}
  if #rows == 0 then return out end
  local ids = {}
  for i = 1, #rows, 2 do ids[#ids + 1] = rows[i] end
  local names = redis.call('HMGET', names_key, unpack(ids))
  for i = 1, #ids do
    out[#out + 1] = ids[i]
    out[#out + 1] = rows[2 * i]
    out[#out + 1] = names[i]
  end
  return out
end
"""

# Reads answer in one round trip with one JSON string (a single bulk reply is far cheaper
# for the client to parse than dozens of nested ones): false (None) if the set is not built.

# A page of a board with its names: [member, score, name, member, score, name, ...].
_TOP = _NAMED_ROWS + """
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
return cjson.encode(named(redis.call('ZREVRANGE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES'), KEYS[3]))
"""

# A member with `span` visible neighbours either side: [hidden, ahead, score, name, above,
# below], [] if not on the board (or hidden and not asked for), false if not built.
# A hidden member's rank is counted among the visible ones (ZCOUNT of higher scores).
_AROUND = _NAMED_ROWS + """
if redis.call('EXISTS', KEYS[3]) == 0 then return false end
local member, span = ARGV[1], tonumber(ARGV[2])
local hidden, ahead = 0, 0
local score = redis.call('ZSCORE', KEYS[1], member)
if score then
  ahead = redis.call('ZREVRANK', KEYS[1], member)
else
  if ARGV[3] ~= '1' then return '[]' end
  score = redis.call('ZSCORE', KEYS[2], member)
  if not score then return '[]' end
  hidden = 1
  ahead = redis.call('ZCOUNT', KEYS[1], '(' .. score, '+inf')
end
local function slice(first, last)
  if span == 0 or last < 0 or last < first then return {} end
  if first < 0 then first = 0 end
  return named(redis.call('ZREVRANGE', KEYS[1], first, last, 'WITHSCORES'), KEYS[4])
end
local below = ahead + 1 - hidden
return cjson.encode({hidden, ahead, score, redis.call('HGET', KEYS[4], member),
                     slice(ahead - span, ahead - 1), slice(below, below + span - 1)})
"""

_COUNT = """
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
return redis.call('ZCARD', KEYS[1])
"""

# Swap freshly built sets in for the live ones, atomically, and mark them built; the
# fresh keys' one-hour safety expiry is replaced by the window's own (or none).
_SWAP = """
for i = 1, 3 do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('RENAME', KEYS[i], KEYS[i + 3])
  else redis.call('DEL', KEYS[i + 3]) end
end
redis.call('SET', KEYS[7], '1')
for i = 4, 7 do
  if ARGV[1] == '0' then redis.call('PERSIST', KEYS[i])  -- drop the fresh keys' safety TTL
  else redis.call('EXPIREAT', KEYS[i], ARGV[1]) end
end
return 1
"""

_FORGET = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
"""

_KEY_COUNT = {_TOP: 3, _AROUND: 4, _COUNT: 2}  # how many of a read script's arguments are keys
TOP_CACHE_DEPTH = 100  # places of each board the optional in-process cache may hold
_UNBUILT = object()  # a read found the set not built: answer from SQL


class _Batch:
    """A pipeline for builds that is sent whenever it holds 50,000 members or 20,000
    commands, so a rebuild of a million members never holds them all in memory."""

    def __init__(self, client: redis.Redis):
        self.pipe = client.pipeline(transaction=False)
        self.members = 0

    def queued(self, members: int = 0) -> None:
        self.members += members
        if self.members >= 50_000 or len(self.pipe) >= 20_000:
            self.send()

    def send(self) -> None:
        if len(self.pipe):
            self.pipe.execute()
        self.members = 0


@dataclass(frozen=True)
class BoardKeys:
    base: str

    @property
    def public(self) -> str:
        return self.base

    @property
    def hidden(self) -> str:
        return self.base + ":hidden"

    @property
    def version(self) -> str:
        return self.base + ":version"

    @property
    def ready(self) -> str:
        return self.base + ":ready"

    @property
    def building(self) -> str:
        return self.base + ":building"


def _expire_at(window: Window, now: datetime) -> int:
    """Unix time at which a window's keys go (0: never). A finished window built late is kept
    at least a day, then built again on the next read."""
    expires = window.expires_at()
    if expires is None:
        return 0
    return int(max(expires, now + timedelta(days=1)).timestamp()) if window.ends_at <= now else int(expires.timestamp())


@dataclass(frozen=True)
class _MemberNow:
    name: str
    hidden: bool
    windows: dict[str, tuple[int, int, int]]  # window key -> (points, last_id, entries)


@dataclass(frozen=True)
class _Row:
    member_id: int
    points: int
    last_id: int
    entries: int
    hidden: bool


class RedisLeaderboard:
    """The Redis projection. `top_cache_seconds` > 0 keeps the first TOP_CACHE_DEPTH places of
    each board in this process for that long (off by default): a top-10 read then needs no
    Redis round trip at all, which is what a worker spends most of such a request on. This
    process's own writes clear it at once; another process's writes show after at most that
    long (the price: a board page up to that stale; a member's own rank is never cached)."""

    name = "redis"

    def __init__(self, client: redis.Redis, sql: SqlLeaderboard, *, prefix: str = "fixquest:",
                 top_cache_seconds: float = 0.0, auto_repair: bool = False):
        self.client = client
        # auto_repair: rebuild in the background when Redis answers again after this process
        # failed to reach it, and once on the first use if the projection is not built.
        self.auto_repair = auto_repair
        self._unsure = auto_repair  # True until Redis is known to hold a built projection
        self.sql = sql
        self.prefix = prefix
        self.calendar = sql.calendar
        self.top_cache_seconds = top_cache_seconds
        self._top_cache: dict[tuple, tuple[float, list[Standing]]] = {}
        self._write = client.register_script(_WRITE)
        self._top = client.register_script(_TOP)
        self._around = client.register_script(_AROUND)
        self._count = client.register_script(_COUNT)
        self._swap = client.register_script(_SWAP)
        self._forget = client.register_script(_FORGET)

    # keys

    def keys(self, board: str, window: WindowLike = "all", scope: Scope | None = None) -> BoardKeys:
        key = self.calendar.key_of(window)
        if scope is None:
            return BoardKeys(f"{self.prefix}lb:{board}:{key}")
        if len(scope_kind(board, scope).boards) > 1:  # a campaign ranks participants and teams
            return BoardKeys(f"{self.prefix}lb:{scope.kind}:{scope.id}:{board}:{key}")
        return BoardKeys(f"{self.prefix}lb:{scope.kind}:{scope.id}:{key}")

    def names_key(self, board: str) -> str:
        return f"{self.prefix}lb:names:{board}"

    # reads: one script call each; SQL only if the set is not built or Redis fails

    def top(self, board: str, *, window: WindowLike = "all", scope: Scope | None = None,
            limit: int = 10, offset: int = 0) -> list[Standing]:
        _check(board, scope)
        cache_key = None
        if self.top_cache_seconds > 0 and offset + limit <= TOP_CACHE_DEPTH:
            cache_key = (board, self.calendar.key_of(window), scope, offset, limit)
            hit = self._top_cache.get(cache_key)
            if hit is not None and hit[0] > _monotonic():
                return hit[1]
        rows = self._top_read(board, window, scope, limit, offset)
        if cache_key is not None:
            if len(self._top_cache) >= 1000:  # many scopes: stay small
                self._top_cache.clear()
            self._top_cache[cache_key] = (_monotonic() + self.top_cache_seconds, rows)
        return rows

    def _top_read(self, board: str, window: WindowLike, scope: Scope | None, limit: int, offset: int):
        def read():
            keys = self.keys(board, window, scope)
            got = self._call(self._top, keys.public, keys.ready, self.names_key(board), offset, offset + limit - 1)
            return _UNBUILT if got is None else self._named(board, json.loads(got), offset + 1)

        return self._read(board, window, scope, read,
                          lambda: self.sql.top(board, window=window, scope=scope, limit=limit, offset=offset))

    def around(self, board: str, member_id: int, *, window: WindowLike = "all", scope: Scope | None = None,
               span: int = 2, include_hidden: bool = False) -> Around | None:
        _check(board, scope)

        def read():
            keys = self.keys(board, window, scope)
            got = self._call(self._around, keys.public, keys.hidden, keys.ready, self.names_key(board),
                             member_id, span, 1 if include_hidden else 0)
            if got is None:
                return _UNBUILT
            got = json.loads(got)
            if not got:
                return None
            hidden, ahead, score, name, above, below = got
            rank = int(ahead) + 1
            above_rows = self._named(board, above or [], rank - len(above or ()) // 3)
            below_rows = self._named(board, below or [], rank + (0 if hidden else 1))
            me = self._named(board, [member_id, score, name], rank)[0]
            return Around(Standing(me.rank, me.member_id, me.points, me.name, bool(hidden)), above_rows, below_rows)

        return self._read(board, window, scope, read,
                          lambda: self.sql.around(board, member_id, window=window, scope=scope, span=span,
                                                  include_hidden=include_hidden))

    def standing_of(self, board: str, member_id: int, *, window: WindowLike = "all",
                    scope: Scope | None = None) -> Standing | None:
        found = self.around(board, member_id, window=window, scope=scope, span=0, include_hidden=True)
        return None if found is None else found.me

    def count(self, board: str, window: WindowLike = "all", scope: Scope | None = None) -> int:
        _check(board, scope)

        def read():
            keys = self.keys(board, window, scope)
            got = self._call(self._count, keys.public, keys.ready)
            return _UNBUILT if got is None else int(got)

        return self._read(board, window, scope, read, lambda: self.sql.count(board, window, scope))

    def _call(self, script, *keys_then_args):
        """EVALSHA straight through the client (the Script wrapper costs more than the work);
        the first call on a fresh Redis loads the script."""
        try:
            return self.client.execute_command("EVALSHA", script.sha, _KEY_COUNT[script.script], *keys_then_args)
        except redis.exceptions.NoScriptError:
            count = _KEY_COUNT[script.script]
            return script(keys=keys_then_args[:count], args=keys_then_args[count:])

    def _read(self, board: str, window: WindowLike, scope: Scope | None, read, from_sql):
        if scope is not None and not scope_kind(board, scope).projected:
            return from_sql()
        try:
            result = read()
            if result is _UNBUILT and self._build_finished(board, window, scope):
                result = read()
            self._answered()
        except redis.RedisError:
            log.warning("redis unavailable; leaderboard read from SQL", exc_info=True)
            self._unsure = "failed" if self.auto_repair else False
            return from_sql()
        if result is _UNBUILT:
            log.debug("leaderboard %s %s not built in redis; read from SQL", board, window)
            return from_sql()
        return result

    def _build_finished(self, board: str, window: WindowLike, scope: Scope | None) -> bool:
        """A finished window (a past season) is built on its first read: no refresh will ever
        build it. A live window is built by the first refresh that writes to it (or by
        rebuild); until then reads go to SQL, so a read never does a build's work twice."""
        resolved = self.calendar.resolve(window)  # UnknownWindow for a season that does not exist
        if resolved.ends_at is None or resolved.ends_at > self.calendar.now() - REFRESH_GRACE:
            return False
        if scope is not None:
            with self.sql.engine.connect() as conn:
                self.sql._scope_check(conn, board, scope)
        return self._build_one(board, scope, resolved) is not None

    def _named(self, board: str, flat: Sequence, first_rank: int) -> list[Standing]:
        """Standings from [member, score, name, ...] as the scripts return them (a name is
        false when the names hash lacks it)."""
        rows = [Standing(first_rank + i // 3, int(flat[i]), int(float(flat[i + 1])) // _SHIFT, flat[i + 2] or "")
                for i in range(0, len(flat), 3)]
        if all(row.name for row in rows):
            return rows
        found = self._heal_names(board, [row.member_id for row in rows if not row.name])
        return [row if row.name else Standing(row.rank, row.member_id, row.points,
                                              found.get(row.member_id, FORMER_NAMES[board])) for row in rows]

    def _heal_names(self, board: str, member_ids: list[int]) -> dict[int, str]:
        """Names missing from the hash (it was lost or never written): read them from SQL once
        and put them back."""
        model, id_column, name_column, _ = member_profile(board)
        with self.sql.engine.connect() as conn:
            found = dict(conn.execute(select(id_column, name_column).where(id_column.in_(member_ids))).all())
        if found:
            self.client.hset(self.names_key(board), mapping={str(k): v for k, v in found.items()})
        return found

    # writes

    def refresh(self, members: Iterable[tuple[str, int]], *, build: bool = True) -> None:
        """Re-read the members' totals in every live window from SQL and write them, with their
        names, to every key set they belong to (whole board and each scope): three SQL
        statements (seasons, totals with names, team memberships) and one Redis round trip.
        A key set that turns out not to be built is then built from the ledger."""
        by_board: dict[str, set[int]] = defaultdict(set)
        for board, member_id in members:
            _member_column(board)
            by_board[board].add(int(member_id))
        if not by_board:
            return
        self._top_cache.clear()
        now = self.calendar.now()
        writes: list[tuple[str, Scope | None, Window, int, int | str, int, bool]] = []
        names: dict[str, dict[str, str]] = {}
        with self.sql.engine.connect() as conn:
            live = self.calendar.live(conn)
            for board, ids in by_board.items():
                found = _window_totals(conn, board, live, ids)
                groups = _groups(conn, board, ids)
                names[board] = {str(m): now_.name for m, now_ in found.items()}
                for member_id, now_ in found.items():
                    for window in live:
                        totals = now_.windows.get(window.key)
                        if totals is None:
                            continue
                        score = encode_score(totals[0], totals[1])
                        for scope in (None, *groups.get(member_id, ())):
                            writes.append((board, scope, window, member_id, score, totals[2], now_.hidden))
                writes += _row_scope_writes(conn, board, live, found)
        commands: list[tuple] = [("HSET", self.names_key(board), *(x for pair in mapping.items() for x in pair))
                                 for board, mapping in names.items() if mapping]
        named = len(commands)
        for board, scope, window, member_id, score, entries, hidden in writes:
            keys = self.keys(board, window, scope)
            commands.append(("EVALSHA", self._write.sha, 4, keys.public, keys.hidden, keys.version, keys.ready,
                             member_id, score, entries, 1 if hidden else 0, _expire_at(window, now)))
        try:
            results = self._pipeline(commands, scripts=[self._write])[named:]
        except redis.RedisError:
            self._unsure = "failed" if self.auto_repair else False  # the award stands; repaired when Redis answers
            raise
        self._answered()
        unbuilt = {(board, scope, window.key): window
                   for (board, scope, window, *_), result in zip(writes, results) if result == 2}
        if build and unbuilt:
            started = [self._build_one(board, scope, window) for (board, scope, _), window in unbuilt.items()]
            started = [s for s in started if s is not None]
            if started:
                self._catch_up(min(started))

    # repairs

    def _answered(self) -> None:
        """Redis answered. After this process failed to reach it (or on its first use), make
        sure the projection is whole: if it was unreachable, the awards committed meanwhile
        are missing from it, so it is rebuilt; on the first use, only if it is not built."""
        if not self._unsure:
            return
        failed_before = self._unsure == "failed"
        self._unsure = False
        if failed_before or not self.client.exists(self.keys("participants", ALL_TIME).ready):
            self.repair_soon()

    def repair_soon(self) -> bool:
        """Rebuild everything in a background thread of this process, unless another process
        is already doing it (a lock in Redis). Returns whether this process started one."""
        if not has_app_context():
            return False
        lock = f"{self.prefix}lb:repairing"
        if not self.client.set(lock, "1", nx=True, ex=900):
            return False
        app = current_app._get_current_object()

        def run() -> None:
            with app.app_context():
                try:
                    log.warning("leaderboard projection: rebuilding from the ledger")
                    self.rebuild()
                except Exception:
                    log.exception("leaderboard repair failed; run `flask --app app scoring rebuild`")
                finally:
                    try:
                        self.client.delete(lock)
                    except redis.RedisError:
                        pass

        threading.Thread(target=run, name="leaderboard-repair", daemon=True).start()
        return True

    def _pipeline(self, commands: list[tuple], *, scripts) -> list:
        """Send raw commands in one round trip. EVALSHA is sent as is (redis-py's script
        pipelines ask SCRIPT EXISTS first, a second round trip); if Redis lost the scripts
        they are loaded and the batch sent again (the writes are idempotent)."""
        for attempt in (1, 2):
            pipe = self.client.pipeline(transaction=False)
            for command in commands:
                pipe.execute_command(*command)
            try:
                return pipe.execute()
            except redis.exceptions.NoScriptError:
                if attempt == 2:
                    raise
                for script in scripts:
                    self.client.script_load(script.script)
        raise AssertionError("unreachable")

    def reshaped(self, *, visibility: Iterable[int] = (), joined: Iterable[tuple[Scope, int]] = (),
                 left: Iterable[tuple[Scope, int]] = ()) -> None:
        """Live windows are rewritten (leavers removed from their old scope's sets). Finished
        seasons' copies that the change touches lose their ready mark and are built again,
        from the ledger, on their next read (a hidden participant vanishes from them too)."""
        visibility, joined, left = set(visibility), set(joined), set(left)
        if not (visibility or joined or left):
            return
        with self.sql.engine.connect() as conn:
            live = self.calendar.live(conn)
            closed = self.calendar.closed_seasons(conn)
            groups = _groups(conn, "participants", visibility) if visibility else {}
        stale = {scope for scope, _ in joined | left}
        stale |= {scope for user in visibility for scope in groups.get(user, ())}
        pipe = self.client.pipeline(transaction=False)
        for scope, user_id in left:
            for window in live:
                keys = self.keys("participants", window, scope)
                self._forget(keys=[keys.public, keys.hidden, keys.version], args=[user_id], client=pipe)
        for window in closed:
            if visibility:
                pipe.delete(self.keys("participants", window).ready)
            for scope in stale:
                pipe.delete(self.keys("participants", window, scope).ready)
        pipe.execute()
        self.refresh([("participants", user) for user in visibility | {u for _, u in joined | left}])

    def erased(self, user_ids: Iterable[int]) -> None:
        """Deleted participants (a school class's erased children) leave every live
        whole-board set and the names hash; finished seasons are built again on their next
        read. Their scope sets are left through reshaped(left=...)."""
        user_ids = sorted(set(user_ids))
        if not user_ids:
            return
        self._top_cache.clear()
        with self.sql.engine.connect() as conn:
            live = self.calendar.live(conn)
            closed = self.calendar.closed_seasons(conn)
        pipe = self.client.pipeline(transaction=False)
        for window in live:
            keys = self.keys("participants", window)
            for user_id in user_ids:
                self._forget(keys=[keys.public, keys.hidden, keys.version], args=[user_id], client=pipe)
        for window in closed:
            pipe.delete(self.keys("participants", window).ready)
        pipe.hdel(self.names_key("participants"), *user_ids)
        pipe.execute()

    def _build_one(self, board: str, scope: Scope | None, window: Window) -> datetime | None:
        """Build one key set from the ledger unless someone else is building it; returns when
        the build started (for the catch-up), or None if it was left to another process."""
        keys = self.keys(board, window, scope)
        if not self.client.set(keys.building, "1", nx=True, ex=600):
            return None
        self._top_cache.clear()
        started = utcnow()
        try:
            with self.sql.engine.connect() as conn:
                batch = _Batch(self.client)
                self._build_into(batch, board, scope, window, _standing_rows(conn, board, window, scope))
                batch.send()
        finally:
            self.client.delete(keys.building)
        return started

    def _build_into(self, batch: _Batch, board: str, scope: Scope | None, window: Window,
                    rows: Iterable[_Row]) -> int:
        """Queue a full build of one key set: fresh keys, then an atomic swap."""
        keys = self.keys(board, window, scope)
        token = secrets.token_hex(6)
        fresh = [f"{keys.public}:new:{token}", f"{keys.hidden}:new:{token}", f"{keys.version}:new:{token}"]
        pipe, written, chunk = batch.pipe, 0, []

        def send(rows_: list[_Row]) -> None:
            visible = {str(r.member_id): encode_score(r.points, r.last_id) for r in rows_ if not r.hidden}
            hidden = {str(r.member_id): encode_score(r.points, r.last_id) for r in rows_ if r.hidden}
            if visible:
                pipe.zadd(fresh[0], visible)
            if hidden:
                pipe.zadd(fresh[1], hidden)
            pipe.hset(fresh[2], mapping={str(r.member_id): r.entries for r in rows_})
            for key in fresh:
                pipe.expire(key, 3600)  # a build that dies half-way leaves nothing for long
            batch.queued(len(rows_))

        for row in rows:
            chunk.append(row)
            written += 1
            if len(chunk) >= 5000:
                send(chunk)
                chunk = []
        if chunk:
            send(chunk)
        self._swap(keys=[*fresh, keys.public, keys.hidden, keys.version, keys.ready],
                   args=[_expire_at(window, self.calendar.now())], client=pipe)
        batch.queued()
        return written

    def _catch_up(self, started: datetime) -> None:
        """Refresh everyone whose rows or memberships are younger than a build: their own
        after-commit writes may have landed on the sets the build then replaced."""
        since = started - CATCH_UP_MARGIN
        with self.sql.engine.connect() as conn:
            rows = conn.execute(select(LedgerEntry.user_id, LedgerEntry.team_id).distinct()
                                .where(LedgerEntry.created_at >= since)).all()
            joined = conn.execute(select(TeamMembership.user_id)
                                  .where(TeamMembership.joined_at >= since)).scalars().all()
        pairs = {("participants", r.user_id) for r in rows if r.user_id is not None}
        pairs |= {("teams", r.team_id) for r in rows if r.team_id is not None}
        pairs |= {("participants", user_id) for user_id in joined}
        if pairs:
            self.refresh(sorted(pairs), build=False)

    def rebuild(self) -> int:
        """Rebuild every live window (all-time, this week and month, running seasons) of both
        boards and of every scope, and the names, from the ledger; each key set is swapped in
        atomically. Returns the number of standings written."""
        started = utcnow()
        written = 0
        self._top_cache.clear()
        with self.sql.engine.connect() as conn:
            live = self.calendar.live(conn)
            batch = _Batch(self.client)
            for board in BOARDS:
                self._write_all_names(conn, batch, board)
            for board in BOARDS:
                kinds = _copied_kinds(board)
                memberships = {k.kind: _group_map(k.groups_of(conn)) for k in kinds}
                scope_ids = {k.kind: k.all_ids(conn) for k in kinds}
                row_scopes = [Scope(k.kind, scope_id) for k in _row_kinds(board) for scope_id in k.all_ids(conn)]
                for window in live:
                    per_scope: dict[Scope, list[_Row]] = defaultdict(list)

                    def fan_out(rows: Iterable[_Row]):
                        for row in rows:
                            for kind, groups in memberships.items():
                                for scope_id in groups.get(row.member_id, ()):
                                    per_scope[Scope(kind, scope_id)].append(row)
                            yield row

                    written += self._build_into(batch, board, None, window,
                                                fan_out(_standing_rows(conn, board, window)))
                    for kind, ids in scope_ids.items():
                        for scope_id in ids:
                            scope = Scope(kind, scope_id)
                            written += self._build_into(batch, board, scope, window, per_scope.get(scope, []))
                    for scope in row_scopes:
                        written += self._build_into(batch, board, scope, window,
                                                    list(_standing_rows(conn, board, window, scope)))
                    batch.send()
        self._catch_up(started)
        return written

    def _write_all_names(self, conn, batch: _Batch, board: str) -> None:
        model, id_column, name_column, _ = member_profile(board)
        names: dict[str, str] = {}
        for member_id, name in _stream(conn, select(id_column, name_column)):
            names[str(member_id)] = name
            if len(names) >= 5000:
                batch.pipe.hset(self.names_key(board), mapping=names)
                batch.queued(len(names))
                names = {}
        if names:
            batch.pipe.hset(self.names_key(board), mapping=names)
        batch.send()

    def drift(self) -> list[str]:
        """Differences between Redis and the ledger in every live window and scope, and in
        the names of members on the all-time boards, as readable lines (empty: none)."""
        problems: list[str] = []
        with self.sql.engine.connect() as conn:
            live = self.calendar.live(conn)
            for board in BOARDS:
                kinds = _copied_kinds(board)
                memberships = {k.kind: _group_map(k.groups_of(conn)) for k in kinds}
                scope_ids = {k.kind: k.all_ids(conn) for k in kinds}
                row_scopes = [Scope(k.kind, scope_id) for k in _row_kinds(board) for scope_id in k.all_ids(conn)]
                for window in live:
                    for scope in row_scopes:
                        problems += self._compare(board, scope, window, {
                            row.member_id: (encode_score(row.points, row.last_id), row.hidden)
                            for row in _standing_rows(conn, board, window, scope)})
                    expected: dict[int, tuple[int, bool]] = {}
                    per_scope: dict[Scope, dict[int, tuple[int, bool]]] = defaultdict(dict)
                    for row in _standing_rows(conn, board, window):
                        expected[row.member_id] = (encode_score(row.points, row.last_id), row.hidden)
                        for kind, groups in memberships.items():
                            for scope_id in groups.get(row.member_id, ()):
                                per_scope[Scope(kind, scope_id)][row.member_id] = expected[row.member_id]
                    problems += self._compare(board, None, window, expected)
                    for kind, ids in scope_ids.items():
                        for scope_id in ids:
                            scope = Scope(kind, scope_id)
                            problems += self._compare(board, scope, window, per_scope.get(scope, {}))
                    if window.kind == "all":
                        problems += self._compare_names(conn, board, list(expected))
        return problems

    def _compare(self, board: str, scope: Scope | None, window: Window,
                 expected: dict[int, tuple[int, bool]]) -> list[str]:
        keys = self.keys(board, window, scope)
        with self.client.pipeline(transaction=False) as pipe:
            pipe.zrange(keys.public, 0, -1, withscores=True)
            pipe.zrange(keys.hidden, 0, -1, withscores=True)
            visible, hidden = pipe.execute()
        stored = {int(m): (int(s), False) for m, s in visible}
        stored.update({int(m): (int(s), True) for m, s in hidden})
        label = f"{board} {window.key}" if scope is None else f"{board} {scope.kind} {scope.id} {window.key}"
        return [f"{label} member {member_id}: redis {_describe(stored.get(member_id))}, "
                f"ledger {_describe(expected.get(member_id))}"
                for member_id in sorted(set(stored) | set(expected))
                if stored.get(member_id) != expected.get(member_id)]

    def _compare_names(self, conn, board: str, member_ids: list[int]) -> list[str]:
        model, id_column, name_column, _ = member_profile(board)
        problems = []
        for start in range(0, len(member_ids), 5000):
            chunk = member_ids[start:start + 5000]
            expected = dict(conn.execute(select(id_column, name_column).where(id_column.in_(chunk))).all())
            stored = self.client.hmget(self.names_key(board), [str(m) for m in chunk])
            problems += [f"{board} name of member {m}: redis {s!r}, database {expected.get(m)!r}"
                         for m, s in zip(chunk, stored) if s != expected.get(m)]
        return problems


def _describe(stored: tuple[int, bool] | None) -> str:
    if stored is None:
        return "absent"
    score, hidden = stored
    return f"{decode_points(score)} points{' (hidden)' if hidden else ''}"


def _stream(conn, stmt):
    """Rows of a big query without holding them all (a server-side cursor on PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        return conn.execution_options(stream_results=True, max_row_buffer=10_000).execute(stmt)
    return conn.execute(stmt)


def _standing_rows(conn, board: str, window: Window, scope: Scope | None = None) -> Iterable[_Row]:
    t = totals_select(board, window, scope).subquery("totals")
    hidden = t.c.member_id.in_(_hidden_ids() if board == "participants" else _hidden_team_ids())
    stmt = select(t.c.member_id, t.c.points, t.c.last_id, t.c.entries, hidden.label("hidden"))
    for row in _stream(conn, stmt):
        yield _Row(row.member_id, int(row.points), row.last_id, row.entries, bool(row.hidden))


def _window_totals(conn, board: str, live: list[Window], member_ids: set[int]) -> dict[int, _MemberNow]:
    """Each member's public name, hidden flag and (points, last_id, entries) in each live
    window, in one statement: one pass over the members' own ledger rows."""
    member = _member_column(board)
    columns = [member.label("member_id")]
    for i, window in enumerate(live):
        conditions = _window_conditions(window)
        inside = and_(*conditions) if conditions else true()
        columns += [func.sum(case((inside, LedgerEntry.amount))).label(f"p{i}"),
                    func.max(case((inside, LedgerEntry.id))).label(f"l{i}"),
                    func.count(case((inside, LedgerEntry.id))).label(f"n{i}")]
    ids = sorted(member_ids)
    totals = select(*columns).where(member.in_(ids)).group_by(member).subquery("totals")
    model, id_column, name_column, hidden_column = member_profile(board)
    stmt = (select(id_column.label("id"), name_column.label("name"), hidden_column.label("hidden"), totals)
            .select_from(model).outerjoin(totals, totals.c.member_id == id_column).where(id_column.in_(ids)))
    found: dict[int, _MemberNow] = {}
    for row in conn.execute(stmt):
        values = row._mapping
        found[row.id] = _MemberNow(row.name, bool(row.hidden), {
            window.key: (int(values[f"p{i}"]), values[f"l{i}"], values[f"n{i}"])
            for i, window in enumerate(live) if values[f"n{i}"]})
    return found


def _copied_kinds(board: str) -> list[ScopeKind]:
    """Projected kinds that narrow by membership: their sets copy whole-board standings."""
    return [k for k in SCOPE_KINDS.values() if board in k.boards and k.projected and not k.by_rows]


def _row_kinds(board: str) -> list[ScopeKind]:
    """Projected kinds that filter ledger rows: their sets hold totals of their own."""
    return [k for k in SCOPE_KINDS.values() if board in k.boards and k.projected and k.by_rows]


def _row_scope_writes(conn, board: str, live: list[Window], found: dict[int, _MemberNow]) -> list[tuple]:
    """Writes for the row-filtering scopes (campaigns) the members have payouts in. The
    version is the member's entry count on the whole board in that window (it only grows,
    like a scope's own count, and also grows when a reversal takes a member off)."""
    writes = []
    for kind in _row_kinds(board):
        for (member_id, scope_id), per_window in kind.window_totals(conn, board, live, found).items():
            whole = found[member_id]
            for window in live:
                totals = whole.windows.get(window.key)
                if totals is None:
                    continue
                mine = per_window.get(window.key)
                score = "gone" if mine is None else encode_score(mine[0], mine[1])
                writes.append((board, Scope(kind.kind, scope_id), window, member_id, score, totals[2], whole.hidden))
    return writes


def _groups(conn, board: str, member_ids: Iterable[int]) -> dict[int, list[Scope]]:
    groups: dict[int, list[Scope]] = defaultdict(list)
    member_ids = sorted(member_ids)
    for kind in _copied_kinds(board):
        if member_ids:
            for member_id, scope_id in kind.groups_of(conn, member_ids):
                groups[member_id].append(Scope(kind.kind, scope_id))
    return groups


def _group_map(pairs: Iterable[tuple[int, int]]) -> dict[int, list[int]]:
    groups: dict[int, list[int]] = defaultdict(list)
    for member_id, scope_id in pairs:
        groups[member_id].append(scope_id)
    return groups


# --- hiding from public boards ------------------------------------------------------------

def set_hidden_from_boards(session: Session, *, actor: User, hidden: bool) -> User:
    """Hide the actor from public leaderboards (or show them again). They still see their
    own rank. The projection follows after commit (scoring.projection sees the change)."""
    if actor.is_child and not hidden:
        raise Forbidden("appear on public leaderboards", "children in a school class never do.")
    actor.hidden_from_boards = bool(hidden)
    session.flush()
    return actor
