"""Leaderboard pages, and the helpers the API and other pages read boards through.

/leaderboards opens on this week and the current season (or all-time when no season is
running), participants and teams side by side. Choosing a window, a board or a team (the
members of one team) shows that one board, paginated, with the viewer's own rank and two
places either side. Everything is a plain link or GET form; hiding from the boards is a POST.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from accounts.models import Team, TeamMembership
from accounts.services import visible_team
from campaigns.models import Campaign
from childsafe.policy import refuse_public
from extensions import db
from pagecache import for_visitors
from scoring import windows
from scoring.leaderboards import (BOARDS, Around, Leaderboard, NotOnBoard, Scope, Standing, UnknownScope,
                                  remember_campaign, set_hidden_from_boards, team_scope)
from scoring.windows import SeasonDates, UnknownWindow, Window

bp = Blueprint("scoring", __name__)

BoardRow = Standing  # what the API serialises: rank, member_id, name, points
PAGE_SIZE = 25
OVERVIEW_SIZE = 10
SPAN = 2


def backend() -> Leaderboard:
    return current_app.extensions["fixquest.leaderboard"]


def board_rows(board: str, *, window: str | Window = "all", scope: Scope | None = None,
               limit: int = 10, offset: int = 0) -> list[Standing]:
    """A page of a board with public names (hidden participants left out)."""
    return backend().top(board, window=window, scope=scope, limit=limit, offset=offset)


def board_scope(*, team_id: int | None = None, campaign_id: int | None = None) -> Scope | None:
    """The scope query parameters name: one team's members, or a campaign's board."""
    if team_id and campaign_id:
        raise UnknownScope("campaign_id", "Choose a team or a campaign, not both.")
    if campaign_id:
        return Scope("campaign", campaign_id)
    return team_scope(team_id)


def board_page(board: str, *, window: str | Window = "all", team_id: int | None = None,
               campaign_id: int | None = None, limit: int = 10, offset: int = 0) -> tuple[list[Standing], bool]:
    """A page of a board (of one team's members, with team_id; of a campaign's, with
    campaign_id) and whether more follow (one read: it asks for one row more)."""
    rows = board_rows(board, window=window, scope=board_scope(team_id=team_id, campaign_id=campaign_id),
                      limit=limit + 1, offset=offset)
    return rows[:limit], len(rows) > limit


def window_key(window: str | Window) -> str:
    """The exact window a name means now, e.g. "week" -> "week:2026-W48" (no lookups)."""
    return backend().calendar.key_of(window)


def is_window_name(name: str) -> bool:
    """week, month, all or season:<number> (whether that season exists is checked on reading)."""
    try:
        windows.parse(name)
    except UnknownWindow:
        return False
    return True


def public_around(board: str, member_id: int, *, window: str | Window = "all", team_id: int | None = None,
                  campaign_id: int | None = None, span: int = SPAN) -> Around:
    """A member's public standing with `span` places either side; NotOnBoard (404) for someone
    hidden or without points in the window."""
    found = backend().around(board, member_id, window=window, span=span,
                             scope=board_scope(team_id=team_id, campaign_id=campaign_id))
    if found is None:
        raise NotOnBoard(board, member_id)
    return found


# --- the page ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Section:
    """One window of the page: its boards and the viewer's place on them."""

    window: Window
    boards: dict[str, list[Standing]]
    mine: Around | None


def _title(window: Window) -> str:
    return {"week": "This week", "month": "This month"}.get(window.kind, window.label)


def _phrase(window: Window) -> str:
    """The window inside a sentence: "You are #3 with 40 points this week"."""
    return {"week": "this week", "month": "this month", "all": "of all time"}.get(window.kind, f"in {window.label}")


def _choices(seasons: list[SeasonDates]) -> list[tuple[str, str]]:
    """(window name, label) for the switcher: week, month, each season, all-time."""
    return ([("week", "This week"), ("month", "This month")]
            + [(f"season:{s.id}", s.name) for s in seasons] + [("all", "All time")])


def _my_place(board: str, window: Window, scope: Scope | None) -> Around | None:
    if board != "participants" or not current_user.is_authenticated:
        return None
    return backend().around("participants", current_user.id, window=window, scope=scope, span=SPAN,
                            include_hidden=True)


def _my_teams() -> list[tuple[int, str]]:
    if not current_user.is_authenticated:
        return []
    return db.session.execute(select(Team.id, Team.name).join(TeamMembership, TeamMembership.team_id == Team.id)
                              .where(TeamMembership.user_id == current_user.id).order_by(Team.name)).all()


def _page_number() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 2**31 - 1:
        abort(404)
    return int(raw)


@bp.get("/leaderboards")
@for_visitors
def leaderboards():
    calendar = backend().calendar
    now, zone, seasons = calendar.now(), calendar.zone, calendar.seasons()
    by_id = {s.id: s for s in seasons}
    chosen = {name: request.args.get(name) for name in ("window", "board", "team_id", "campaign_id", "page")}
    default = "all" if chosen["campaign_id"] else "week"  # a campaign's board: its own dates
    try:
        window = windows.resolve(chosen["window"] or default, now=now, zone=zone, season=by_id.get)
    except UnknownWindow:
        abort(404)
    common = dict(choices=_choices(seasons), my_teams=_my_teams(), phrase=_phrase, title=_title)
    if not any(chosen.values()):
        sections = [Section(w, {b: board_rows(b, window=w, limit=OVERVIEW_SIZE) for b in BOARDS},
                            _my_place("participants", w, None))
                    for w in windows.default_windows(now=now, zone=zone, seasons=seasons)]
        return render_template("scoring/leaderboards.html", sections=sections, detail=None, **common)
    return _detail(window, chosen, common)


def _detail(window: Window, chosen: dict, common: dict):
    board = chosen["board"] or "participants"
    if board not in BOARDS:
        abort(404)
    team = campaign = None
    if chosen["team_id"]:
        team = visible_team(db.session, current_user, _raw_id(chosen["team_id"]))  # NotFound: the 404 page
        if board != "participants" or chosen["campaign_id"]:
            abort(404)
    if chosen["campaign_id"]:
        campaign = _get_or_404(Campaign, chosen["campaign_id"])
    scope = (Scope("campaign", campaign.id) if campaign else team_scope(team.id if team else None))
    page = _page_number()
    try:
        total = backend().count(board, window, scope)
    except UnknownScope:
        abort(404)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        abort(404)
    rows = board_rows(board, window=window, scope=scope, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    my_team_ids = [team_id for team_id, _ in common["my_teams"]]
    team_standings = ([s for s in (backend().standing_of("teams", t, window=window, scope=scope)
                                   for t in my_team_ids) if s] if board == "teams" else [])
    scope_args = {"team_id": team.id} if team else {"campaign_id": campaign.id} if campaign else {}
    detail = dict(board=board, window=window, team=team, campaign=campaign, rows=rows, page=page, pages=pages,
                  total=total, mine=_my_place(board, window, scope), team_standings=team_standings,
                  my_team_ids=set(my_team_ids), scope_args=scope_args,
                  link_args={"board": board, "window": window.name, **scope_args})
    return render_template("scoring/leaderboards.html", sections=[], detail=detail, **common)


def _raw_id(raw: str) -> int:
    """An id from the query string; 0 (no row's id) for anything that is not one."""
    return int(raw) if raw.isdigit() and int(raw) <= 2**31 - 1 else 0


def _get_or_404(model, raw: str):
    row_id = _raw_id(raw)
    found = db.session.get(model, row_id) if row_id else None
    if found is None:
        abort(404)
    return found


@dataclass(frozen=True)
class CampaignBoards:
    """A campaign page's leaderboard: the top of each board and the viewer's own place."""

    boards: dict[str, list[Standing]]
    mine: Around | None


def campaign_boards(campaign, *, limit: int = OVERVIEW_SIZE) -> CampaignBoards:
    """A campaign page's boards and the reader's place; the campaign the page has loaded is
    the scope's definition, so the boards do not read it again."""
    remember_campaign(campaign)
    scope = Scope("campaign", campaign.id)
    return CampaignBoards({b: board_rows(b, scope=scope, limit=limit) for b in BOARDS},
                          _my_place("participants", backend().calendar.resolve("all"), scope))


@bp.post("/me/leaderboard-visibility")
@login_required
def leaderboard_visibility():
    hidden = request.form.get("hidden") == "1"
    if not hidden:
        refuse_public(current_user, "appear on public leaderboards")
    set_hidden_from_boards(db.session, actor=current_user, hidden=hidden)
    db.session.commit()
    flash("You are hidden from public leaderboards; only you see your rank." if hidden
          else "You are shown on public leaderboards again.", "success")
    return redirect(url_for("scoring.leaderboards"))
