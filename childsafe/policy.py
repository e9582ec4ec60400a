"""Who may see a child, and what a child may not do in public.

"A child's teachers" are organisers who captain a team the child is a member of (a school
class is such a team). The classes package may later hold richer class records; as long
as a class owns a team captained by its teacher with the children as members, these
functions stay true.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from accounts.models import Role, Team, TeamMembership, User
from errors import Forbidden

ORGANISER_ROLES = (Role.organiser.value, Role.admin.value)


class ChildRefused(Forbidden):
    """A child's account tried something public; nothing was changed."""

    code = "child_account"

    def __init__(self, action: str):
        super().__init__(action, "children's accounts keep everything inside their class. "
                                 "Ask your teacher if you think this should be possible.")


def refuse_public(actor, action: str) -> None:
    """Raise ChildRefused when a child tries a public action (call it before any change)."""
    if getattr(actor, "is_child", False):
        raise ChildRefused(action)


def children_select() -> Select:
    return select(User.id).where(User.is_child.is_(True))


def teacher_ids_select(child_id: int) -> Select:
    """Organisers who captain a team the child is a member of."""
    return (select(Team.captain_id).join(TeamMembership, TeamMembership.team_id == Team.id)
            .join(User, User.id == Team.captain_id)
            .where(TeamMembership.user_id == child_id, User.role.in_(ORGANISER_ROLES)))


def teacher_ids(session: Session, child_id: int) -> set[int]:
    return set(session.scalars(teacher_ids_select(child_id)))


def is_teacher_of(session: Session, teacher, child_id: int) -> bool:
    if not getattr(teacher, "is_authenticated", False) or not teacher.is_organiser:
        return False
    return teacher.id in teacher_ids(session, child_id)


def pupils_select(teacher_id: int) -> Select:
    """The children in the teams this organiser captains."""
    return (select(TeamMembership.user_id).join(Team, Team.id == TeamMembership.team_id)
            .join(User, User.id == TeamMembership.user_id)
            .where(Team.captain_id == teacher_id, User.is_child.is_(True)))


def shares_a_team(session: Session, user_id: int, other_id: int) -> bool:
    mine, theirs = aliased(TeamMembership), aliased(TeamMembership)
    return session.scalar(select(mine.id).join(theirs, theirs.team_id == mine.team_id)
                          .where(mine.user_id == user_id, theirs.user_id == other_id).limit(1)) is not None


def may_see_child(session: Session, viewer, child: User) -> bool:
    """The child, their teachers and their classmates (members of a team with them)."""
    if not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.id == child.id:
        return True
    captains = select(Team.captain_id).join(TeamMembership, TeamMembership.team_id == Team.id).where(
        TeamMembership.user_id == child.id)
    return viewer.id in set(session.scalars(captains)) or shares_a_team(session, viewer.id, child.id)


def may_see_person(session: Session, viewer, person: User) -> bool:
    """Anyone may see an adult's public things; a child only inside their class."""
    return not person.is_child or may_see_child(session, viewer, person)


@dataclass(frozen=True)
class ChildSettings:
    """What a teacher has switched on for a child. Everything is off by default."""

    streaks: bool = False
    public_rankings: bool = False


DEFAULT_CHILD_SETTINGS = ChildSettings()


def child_settings(session: Session, user_id: int) -> ChildSettings:
    """What the teacher of the child's class switched on (classes.services); the defaults
    (no streaks, no public rankings) for a child in no class. A class's "show in public
    rankings" puts the class's team on the public teams board; children themselves stay off
    public boards whatever it says."""
    from classes.services import class_settings_for  # classes builds on this module

    found = class_settings_for(session, user_id)
    if found is None:
        return DEFAULT_CHILD_SETTINGS
    return ChildSettings(streaks=found.streaks_enabled, public_rankings=False)


def streaks_enabled(session: Session, user_id: int) -> bool:
    """Streaks are on for adults, and for a child only if their teacher turned them on."""
    is_child = session.scalar(select(User.is_child).where(User.id == user_id))
    return not is_child or child_settings(session, user_id).streaks


def children_known_to(session: Session, viewer) -> set[int]:
    """Every child the viewer may see, in one query: children in the teams the viewer is a
    member or the captain of (the viewer themselves, if a child, included)."""
    if not getattr(viewer, "is_authenticated", False):
        return set()
    teams = select(TeamMembership.team_id).where(TeamMembership.user_id == viewer.id).union(
        select(Team.id).where(Team.captain_id == viewer.id))
    found = set(session.scalars(select(TeamMembership.user_id).join(User, User.id == TeamMembership.user_id)
                                .where(TeamMembership.team_id.in_(teams), User.is_child.is_(True))))
    return found | ({viewer.id} if viewer.is_child else set())
