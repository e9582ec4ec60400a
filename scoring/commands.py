"""`flask --app app scoring ...`: maintain the leaderboard projection.

Both commands cover every live window (all-time, this week, this month, running seasons)
of both boards and of every scope Redis keeps (teams' and classes' members, started
campaigns), plus the display names Redis serves.
"""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

scoring_cli = AppGroup("scoring", help="Leaderboard projection maintenance.")


def _board():
    return current_app.extensions["fixquest.leaderboard"]


def _windows(board) -> str:
    return ", ".join(window.key for window in board.calendar.live())


@scoring_cli.command("rebuild")
def rebuild_command() -> None:
    """Rebuild the Redis leaderboards from the ledger."""
    board = _board()
    if board.name != "redis":
        click.echo("No REDIS_URL: leaderboards are read from SQL, nothing to rebuild.")
        return
    written = board.rebuild()
    click.echo(f"Rebuilt leaderboards ({_windows(board)}; whole boards, team, class and campaign scopes): "
               f"{written} standings written.")


@scoring_cli.command("verify")
def verify_command() -> None:
    """Compare the Redis leaderboards with the ledger; exit 1 on any drift."""
    board = _board()
    if board.name != "redis":
        click.echo("No REDIS_URL: leaderboards are read from SQL, nothing can drift.")
        return
    drift = board.drift()
    for line in drift:
        click.echo(line)
    if drift:
        raise click.ClickException(f"{len(drift)} standings differ; run `flask --app app scoring rebuild`.")
    click.echo(f"Leaderboards match the ledger ({_windows(board)}; whole boards, team, class and campaign "
               "scopes, and names).")
