"""Leaderboard pages."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, current_app, render_template
from flask_login import current_user
from sqlalchemy import select

from accounts.models import Team, TeamMembership, User
from extensions import db
from scoring.leaderboards import Standing

bp = Blueprint("scoring", __name__)


@dataclass(frozen=True)
class BoardRow:
    rank: int
    member_id: int
    name: str
    points: int


def _names(board: str, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    model = User if board == "participants" else Team
    label = User.display_name if board == "participants" else Team.name
    return dict(db.session.execute(select(model.id, label).where(model.id.in_(ids))).all())


def named(board: str, standings: list[Standing]) -> list[BoardRow]:
    """Attach public names (display names, team names) to standings in one query."""
    names = _names(board, [s.member_id for s in standings])
    return [BoardRow(s.rank, s.member_id, names.get(s.member_id, "a former participant"), s.points)
            for s in standings]


def board_rows(board: str, *, limit: int = 10, offset: int = 0) -> list[BoardRow]:
    backend = current_app.extensions["fixquest.leaderboard"]
    return named(board, backend.top(board, limit=limit, offset=offset))


def my_rows(user) -> tuple[BoardRow | None, list[BoardRow]]:
    """The logged-in user's own standing and their teams' standings."""
    if not user.is_authenticated:
        return None, []
    backend = current_app.extensions["fixquest.leaderboard"]
    mine = backend.standing_of("participants", user.id)
    team_ids = db.session.scalars(select(TeamMembership.team_id).where(TeamMembership.user_id == user.id)).all()
    teams = [s for s in (backend.standing_of("teams", t) for t in team_ids) if s is not None]
    return (named("participants", [mine])[0] if mine else None), named("teams", teams)


@bp.get("/leaderboards")
def leaderboards():
    mine, my_teams = my_rows(current_user)
    return render_template("scoring/leaderboards.html",
                           participants=board_rows("participants", limit=25),
                           teams=board_rows("teams", limit=25), mine=mine, my_teams=my_teams)
