"""`flask --app app scoring ...`: maintain the leaderboard projection."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

scoring_cli = AppGroup("scoring", help="Leaderboard projection maintenance.")


def _board():
    return current_app.extensions["fixquest.leaderboard"]


@scoring_cli.command("rebuild")
def rebuild_command() -> None:
    """Rebuild the Redis leaderboards from the ledger."""
    board = _board()
    if board.name != "redis":
        click.echo("No REDIS_URL: leaderboards are read from SQL, nothing to rebuild.")
        return
    click.echo(f"Rebuilt leaderboards: {board.rebuild()} standings written.")


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
    click.echo("Leaderboards match the ledger.")
