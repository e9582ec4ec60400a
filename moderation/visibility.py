"""Who sees hidden or held content, and the SQL conditions public surfaces filter on.

Hidden (by a moderator) and held (by the word list) content is seen only by its owner
(marked "hidden by a moderator" / "awaiting review", with the reason) and by moderators
(organisers and admins). Everyone else, every feed, export, API and download, sees
nothing of it: public queries add `public_problems()` / `public_updates()`.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, select

from moderation.models import PUBLIC


def is_moderator(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_organiser)


def may_see(viewer, visibility: str, owner_ids: Iterable[int | None] = ()) -> bool:
    """Public content, or hidden/held content for its owner(s) and moderators."""
    if visibility == PUBLIC:
        return True
    if not getattr(viewer, "is_authenticated", False):
        return False
    return viewer.is_organiser or viewer.id in set(owner_ids)


def public_problems():
    """The condition on Problem that every public list, feed, map and export adds."""
    from challenges.models import Problem

    return Problem.visibility == PUBLIC


def public_updates():
    """Updates shown publicly: public themselves, on a public problem."""
    from challenges.models import Problem, ProblemUpdate

    return and_(ProblemUpdate.visibility == PUBLIC,
                ProblemUpdate.problem_id.in_(select(Problem.id).where(Problem.visibility == PUBLIC)))


def public_problem_ids():
    from challenges.models import Problem

    return select(Problem.id).where(Problem.visibility == PUBLIC)


def problem_visible(viewer, problem) -> bool:
    return may_see(viewer, problem.visibility, (problem.reporter_id,))


def update_visible(viewer, entry, problem=None) -> bool:
    problem = problem or entry.problem
    return problem_visible(viewer, problem) and may_see(viewer, entry.visibility, (entry.author_id,))


def evidence_visible(viewer, claim, team_member_ids: Iterable[int] = ()) -> bool:
    return may_see(viewer, claim.evidence_visibility, (claim.user_id, *team_member_ids))


def profile_visible(viewer, user) -> bool:
    if not user.profile_hidden:
        return True
    return bool(getattr(viewer, "is_authenticated", False) and (viewer.is_organiser or viewer.id == user.id))
