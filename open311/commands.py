"""`flask --app app open311 keys ...`: organisations' api_keys; `open311 import`: requests from
another GeoReport v2 server."""
from __future__ import annotations

import functools

import click
from flask import current_app
from flask.cli import AppGroup

from errors import DomainError
from extensions import db
from open311 import importer, services
from timeutil import isoformat

open311_cli = AppGroup("open311", help="The Open311 GeoReport v2 server.")
keys_cli = AppGroup("keys", help="Create, list and revoke api_keys.")
open311_cli.add_command(keys_cli)


@keys_cli.command("create")
@click.argument("name")
def create_command(name: str) -> None:
    """Create an api_key for the organisation NAME; the key is printed once."""
    try:
        key, plain = services.create_key(db.session, name=name)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message)
    db.session.commit()
    click.echo(f"Created api_key #{key.id} ({key.name}); its reports show as "
               f"{services.reporter_name(key.name)!r}.")
    click.echo("Give this key to the client now; it is not stored and cannot be shown again:")
    click.echo(plain)


@keys_cli.command("list")
def list_command() -> None:
    """Every api_key: id, name, created, last used, revoked."""
    keys = services.list_keys(db.session)
    if not keys:
        click.echo("No api_keys yet.")
    for key in keys:
        click.echo(f"#{key.id}  {key.name}  created {isoformat(key.created_at)}  "
                   f"last used {isoformat(key.last_used_at) or 'never'}  "
                   f"{'revoked ' + isoformat(key.revoked_at) if key.revoked_at else 'active'}")


@keys_cli.command("revoke")
@click.argument("key_id", type=int)
def revoke_command(key_id: int) -> None:
    """Revoke api_key KEY_ID: it can no longer post. Its reports stay."""
    try:
        key = services.revoke_key(db.session, key_id=key_id)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message)
    db.session.commit()
    click.echo(f"Revoked api_key #{key.id} ({key.name}).")


@open311_cli.command("import")
@click.argument("url")
@click.option("--jurisdiction", "jurisdiction", default=None, help="jurisdiction_id, for servers that serve several.")
@click.option("--since", "since", default=None,
              help="Import requests made since this date (2026-01-31 or a W3C datetime); default 90 days ago.")
@click.option("--timeout", "timeout", default=importer.TIMEOUT_S, show_default=True, type=float,
              help="Seconds to wait for each answer.")
def import_command(url: str, jurisdiction: str | None, since: str | None, timeout: float) -> None:
    """Import service requests from the GeoReport v2 endpoint at URL (its base, e.g.
    https://example.org/open311/v2) as problems, and mirror their status changes. Safe to
    re-run: nothing is imported twice. Commits after each window of at most 90 days."""
    start = None
    if since is not None:
        start = importer.parse_remote_datetime(since)
        if start is None:
            raise click.BadParameter("use a date (2026-01-31) or a W3C datetime.", param_hint="--since")
    committed = None
    try:
        for report in importer.import_windows(
                db.session, url=url, categories=current_app.config["CATEGORIES"], since=start,
                jurisdiction=jurisdiction, fetch=functools.partial(importer.http_fetch, timeout=timeout),
                log=click.echo):
            db.session.commit()
            committed = report.summary()
    except DomainError as error:
        db.session.rollback()
        kept = f"Kept what was committed before it: {committed}." if committed else "Nothing was written."
        raise click.ClickException(f"{error.message}. {kept}")
    click.echo(f"Imported from {importer.source_of(url)}: {committed or 'nothing to do'}.")
