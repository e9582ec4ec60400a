"""`flask --app app classes create ...`: a class and its login cards from the command line
(registered on the blueprint's own CLI group, see classes/views.py)."""
from __future__ import annotations

import click
from flask import current_app

from accounts.services import user_by_email
from classes import services
from classes.models import SecretKind
from errors import DomainError
from extensions import db


def _secret_text(card: services.Card) -> str:
    if card.kind == SecretKind.pictures:
        return " → ".join(name for _, name, _ in card.pictures)
    return str(card.secret)


@click.command("create")
@click.option("--teacher", "teacher_email", required=True, help="The teacher's (an organiser's) email.")
@click.option("--name", required=True, help="The class's name, shown as a team.")
@click.option("--size", type=click.IntRange(1, services.MAX_CLASS_SIZE), required=True, help="Number of children.")
@click.option("--pictures", is_flag=True, help="Picture-PINs instead of passwords.")
def create_command(teacher_email: str, name: str, size: int, pictures: bool) -> None:
    """Create a class and print its login cards (shown this once: secrets are stored hashed)."""
    try:
        teacher = user_by_email(db.session, teacher_email)
        school_class, cards = services.create_class(
            db.session, actor=teacher, name=name, size=size,
            secret_kind=SecretKind.pictures if pictures else SecretKind.password,
            hash_method=current_app.config["PASSWORD_HASH_METHOD"])
    except DomainError as error:
        db.session.rollback()
        details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.fields.items())
        raise click.ClickException(details or error.message) from None
    db.session.commit()
    click.echo(f"Class {school_class.name!r} (#{school_class.id}), class code {school_class.code}.")
    click.echo("Login cards (shown only now):")
    for card in cards:
        click.echo(f"  {card.card_name:<22} {_secret_text(card)}")
