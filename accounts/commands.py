"""`flask --app app users ...`: accounts from the command line."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from accounts import services
from accounts.models import Role
from errors import DomainError
from extensions import db

users_cli = AppGroup("users", help="Create accounts and set roles.")
ROLE_CHOICE = click.Choice([r.value for r in Role])


def _fail(error: DomainError) -> None:
    details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.fields.items())
    raise click.ClickException(details or error.message)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", "display_name", required=True, help="Public display name.")
@click.option("--role", type=ROLE_CHOICE, default=Role.participant.value, show_default=True)
def create_command(email: str, password: str, display_name: str, role: str) -> None:
    """Create an account."""
    try:
        user = services.create_user(db.session, email=email, password=password,
                                    display_name=display_name, role=role, verified=True,
                                    min_password=current_app.config["MIN_PASSWORD_LENGTH"],
                                    hash_method=current_app.config["PASSWORD_HASH_METHOD"])
    except DomainError as error:
        db.session.rollback()
        _fail(error)
    db.session.commit()
    click.echo(f"Created {user.role} #{user.id} ({user.display_name}).")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
def set_role_command(email: str, role: str) -> None:
    """Change the role of the account with EMAIL."""
    try:
        user = services.user_by_email(db.session, email)
        services.set_role(db.session, actor=None, user=user, role=role)
    except DomainError as error:
        db.session.rollback()
        _fail(error)
    db.session.commit()
    click.echo(f"{user.display_name} is now {user.role}.")
