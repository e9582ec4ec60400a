"""Fix stories: how a problem was fixed, in a few words, with a before and an after photo.

A story is a public update (kind "fix") in the problem's history, so followers are told as
for any update, and its photos belong to that update (checked by content, metadata
stripped, by media.services). Only a fixer (someone credited on an approved claim on a
quest made from the problem) or an organiser writes one, once per problem. Children's
stories are never published: a child's account cannot write one.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from accounts.models import User
from campaigns.models import FixStory
from campaigns.services import credited_users
from challenges.models import Claim, ClaimStatus, Problem, ProblemUpdate, Quest
from errors import Conflict, Forbidden, ValidationFailed
from media.services import PhotosNotTaken, lock_owner, save_photo
from moderation.visibility import public_problem_ids
from notifications.services import publish
from timeutil import utcnow

STORY_MAX = 1000


class StoryExists(Conflict):
    code = "story_exists"

    def __init__(self, problem_id: int):
        super().__init__("This problem already has its fix story.")
        self.problem_id = problem_id


def fixers_of(session: Session, problem_id: int) -> set[int]:
    """Everyone credited on an approved claim on a quest made from the problem."""
    claims = session.execute(select(Claim.id, Claim.user_id, Claim.team_id).join(Quest, Quest.id == Claim.quest_id)
                             .where(Quest.problem_id == problem_id,
                                    Claim.status == ClaimStatus.approved.value)).all()
    return {user_id for user_ids in credited_users(session, [tuple(c) for c in claims]).values() for user_id in user_ids}


def story_refusal(session: Session, user: User, problem: Problem) -> str | None:
    """Why `user` may not write this problem's story, or None if they may."""
    if user.is_child:
        return "stories from class accounts are not published."
    fixers = fixers_of(session, problem.id)
    if not fixers:
        return "it has no approved fix yet."
    if not user.is_organiser and user.id not in fixers:
        return "only the people who fixed it, or an organiser, write its story."
    return None


def check_may_write(session: Session, user: User, problem: Problem) -> None:
    """Raise Forbidden, saying why, unless `user` may write this problem's story."""
    refusal = story_refusal(session, user, problem)
    if refusal:
        raise Forbidden("write this problem's fix story", refusal)


def story_for(session: Session, problem_id: int) -> FixStory | None:
    return session.scalar(select(FixStory).where(FixStory.problem_id == problem_id)
                          .options(selectinload(FixStory.author), selectinload(FixStory.before_photo),
                                   selectinload(FixStory.after_photo)))


def write_story(session: Session, *, actor: User, problem: Problem, story: str, before: bytes | None,
                after: bytes | None, storage, max_bytes: int, max_pixels: int,
                now: datetime | None = None) -> FixStory:
    check_may_write(session, actor, problem)
    story = (story or "").strip()
    if not story:
        raise ValidationFailed({"story": ["Tell the story in a few sentences: what was wrong, what you did."]})
    if len(story) > STORY_MAX:
        raise ValidationFailed({"story": [f"Keep this to {STORY_MAX} characters or fewer."]})
    if session.scalar(select(FixStory.id).where(FixStory.problem_id == problem.id)):
        raise StoryExists(problem.id)
    now = now or utcnow()
    update = ProblemUpdate(problem_id=problem.id, author_id=actor.id, kind="fix", body=story, created_at=now)
    session.add(update)
    session.flush()
    photos = {}
    for name, data in (("before_photo", before), ("after_photo", after)):
        if data:
            photos[name] = save_photo(session, storage=storage, actor=actor, data=data, update_id=update.id,
                                      field=name, max_bytes=max_bytes, max_pixels=max_pixels, now=now)
    row = FixStory(problem_id=problem.id, update_id=update.id, author_id=actor.id, story=story, created_at=now,
                   before_photo_id=photos["before_photo"].id if "before_photo" in photos else None,
                   after_photo_id=photos["after_photo"].id if "after_photo" in photos else None)
    session.add(row)
    session.flush()
    publish(session, update)
    return row


def add_story_photos(session: Session, *, actor: User, story: FixStory, before: bytes | None, after: bytes | None,
                     storage, max_bytes: int, max_pixels: int, now: datetime | None = None) -> FixStory:
    """The story's author adds the before or the after photo it was written without (each
    slot once: a story keeps the photos it was published with)."""
    if story.author_id != actor.id:
        raise Forbidden("add photos to this fix story", "only its author can.")
    offered = {"before_photo": before, "after_photo": after}
    if not any(offered.values()):
        raise ValidationFailed({"before_photo": ["Attach a before or an after photo (or both)."]})
    lock_owner(session, FixStory, story.id)  # one slot, one photo
    session.refresh(story)
    taken = [name for name, data in offered.items() if data and getattr(story, f"{name}_id") is not None]
    if taken:
        raise PhotosNotTaken(f"the story has its {' and '.join(n.replace('_', ' ') for n in taken)} already.")
    for name, data in offered.items():
        if data:
            photo = save_photo(session, storage=storage, actor=actor, data=data, update_id=story.update_id,
                               field=name, max_bytes=max_bytes, max_pixels=max_pixels, now=now)
            setattr(story, f"{name}_id", photo.id)
    session.flush()
    session.refresh(story)
    return story


def public_stories(session: Session, problem_ids: Sequence[int] | Select, *, limit: int = 6) -> list[FixStory]:
    """The newest stories of these problems (ids, or a SELECT of ids), by authors who are
    not children."""
    if isinstance(problem_ids, (list, tuple, set)):
        if not problem_ids:
            return []
        problem_ids = list(problem_ids)
    return list(session.scalars(select(FixStory).join(User, User.id == FixStory.author_id)
                                .where(FixStory.problem_id.in_(problem_ids), User.is_child.is_(False),
                                       FixStory.problem_id.in_(public_problem_ids()))  # not hidden or held
                                .options(selectinload(FixStory.author), selectinload(FixStory.before_photo),
                                         selectinload(FixStory.after_photo))
                                .order_by(FixStory.created_at.desc(), FixStory.id.desc()).limit(limit)))
