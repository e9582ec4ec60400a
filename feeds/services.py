"""What each feed holds, read in two queries at most and with public columns only.

People appear by display name alone: the user table is joined for `display_name`, so no
other column of it (an email address above all) is ever loaded for a feed.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, literal, select
from sqlalchemy.orm import Session

from accounts.models import User
from challenges.models import Problem, ProblemUpdate
from maps.area import Area
from maps.services import newest_first, newest_problem_ids
from moderation.models import PUBLIC

FEED_SIZE = 50


def public_name():
    """The person's display name, or "a participant" for a child or a profile a moderator hid
    (`User.unnamed_as_author`)."""
    return case((User.unnamed_as_author, literal("a participant")), else_=User.display_name)


@dataclass(frozen=True)
class Reported:
    problem: Problem
    reporter: str  # display name


@dataclass(frozen=True)
class Update:
    update: ProblemUpdate
    author: str  # display name


def newest_problems(session: Session, *, category: str | None = None, area: Area | None = None,
                    limit: int = FEED_SIZE) -> list[Reported]:
    """The newest public (unmerged) problems, site-wide or in a category or area."""
    ids = newest_problem_ids(session, categories=[category] if category else [], area=area, limit=limit)
    if not ids:
        return []
    rows = session.execute(newest_first(
        select(Problem, public_name()).join(User, User.id == Problem.reporter_id)
        .where(Problem.id.in_(ids)))).all()
    return [Reported(problem, name) for problem, name in rows]


def problem_updates(session: Session, problem: Problem, *, limit: int = FEED_SIZE) -> list[Update]:
    """A problem's public history, newest first."""
    rows = session.execute(
        select(ProblemUpdate, public_name()).join(User, User.id == ProblemUpdate.author_id)
        .where(ProblemUpdate.problem_id == problem.id, ProblemUpdate.visibility == PUBLIC)
        .order_by(ProblemUpdate.created_at.desc(), ProblemUpdate.id.desc()).limit(limit)).all()
    return [Update(update, name) for update, name in rows]
