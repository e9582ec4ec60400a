"""A class for the children's privacy tests: a teacher (an organiser) captaining a team
whose members are children with distinctive names."""
from __future__ import annotations

import io

from accounts.models import Team, User
from extensions import db
from tests.factories import make_organiser, make_team, make_user


def make_child(name: str) -> User:
    child = make_user(name=name)
    child.is_child = True
    child.hidden_from_boards = True
    db.session.commit()
    return child


def make_class(teacher: User | None = None, *names: str, team_name: str | None = None) -> tuple[User, Team, list[User]]:
    teacher = teacher or make_organiser(name="Ms Teacher")
    children = [make_child(name) for name in names]
    team = make_team(teacher, name=team_name, members=tuple(children))
    return teacher, team, children


def make_school_class(teacher: User | None = None, *names: str, team_name: str | None = None,
                      public: bool = False) -> tuple[User, Team, list[User]]:
    """make_class, made a school class (a SchoolClass owning the team): private to its class
    unless `public` (its teacher's "Show the class in public")."""
    from classes.models import SchoolClass

    teacher, team, children = make_class(teacher, *names, team_name=team_name)
    db.session.add(SchoolClass(team_id=team.id, code=f"T{team.id:07d}", show_in_rankings=public))
    db.session.commit()
    return teacher, team, children


def upload(data: bytes, name: str = "photo.jpg"):
    return (io.BytesIO(data), name)
