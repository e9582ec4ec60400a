"""`flask --app app open311 keys ...`: organisations' api_keys."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from errors import DomainError
from extensions import db
from open311 import services
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
