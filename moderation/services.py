"""Flags, the moderators' queue, hiding, restoring, dismissing and releasing.

Every change a moderator makes is written to the audit log in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.models import User
from childsafe.policy import refuse_public
from errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from moderation import audit
from moderation.audit import Action
from moderation.models import (PUBLIC, REASON_LABELS, Flag, FlagStatus, Kind, ModeratedItem, Visibility)
from moderation.visibility import is_moderator
from timeutil import utcnow

FLAG_TEXT_MAX = 1000
REASON_MAX = 500


class AlreadyFlagged(Conflict):
    code = "already_flagged"

    def __init__(self, kind: str, object_id: int):
        super().__init__("You have already flagged this; a moderator will look at it.")
        self.kind = kind
        self.object_id = object_id


class NothingToDo(Conflict):
    code = "moderation_state"

    def __init__(self, message: str):
        super().__init__(message)


# --- the items -------------------------------------------------------------------------------

@dataclass
class Item:
    """One moderatable thing: its kind, id, row, owner and current visibility."""
    kind: str
    object_id: int
    row: object
    owner_ids: tuple[int, ...]
    visibility: str
    label: str
    url_args: tuple[str, dict] = field(default=("", {}))


def load_item(session: Session, kind: str, object_id: int) -> Item:
    from challenges.models import Claim, Problem, ProblemUpdate

    try:
        kind = Kind(kind).value
    except ValueError:
        raise NotFound("kind of item", kind) from None
    if kind == Kind.problem.value:
        row = session.get(Problem, object_id)
        if row is not None:
            return Item(kind, object_id, row, (row.reporter_id,), row.visibility, row.title,
                        ("challenges.problem", {"problem_id": row.id}))
    elif kind == Kind.update.value:
        row = session.get(ProblemUpdate, object_id)
        if row is not None:
            return Item(kind, object_id, row, (row.author_id,), row.visibility, row.body or row.kind,
                        ("challenges.problem", {"problem_id": row.problem_id}))
    elif kind == Kind.evidence.value:
        row = session.get(Claim, object_id)
        if row is not None and row.evidence is not None:
            return Item(kind, object_id, row, (row.user_id,), row.evidence_visibility, row.evidence,
                        ("challenges.claim_detail", {"claim_id": row.id}))
    else:
        row = session.get(User, object_id)
        if row is not None:
            return Item(kind, object_id, row, (row.id,), Visibility.hidden.value if row.profile_hidden else PUBLIC,
                        row.display_name, ("profiles.profile", {"user_id": row.id}))
    raise NotFound(kind, object_id)


def _set_visibility(item: Item, visibility: str) -> None:
    if item.kind == Kind.evidence.value:
        item.row.evidence_visibility = visibility
    elif item.kind == Kind.profile.value:
        item.row.profile_hidden = visibility != PUBLIC
    else:
        item.row.visibility = visibility
    item.visibility = visibility


def _state_row(session: Session, item: Item) -> ModeratedItem:
    row = session.scalar(select(ModeratedItem).where(ModeratedItem.kind == item.kind,
                                                     ModeratedItem.object_id == item.object_id))
    if row is None:
        row = ModeratedItem(kind=item.kind, object_id=item.object_id, owner_id=item.owner_ids[0],
                            state=item.visibility)
        session.add(row)
    return row


def state_of(session: Session, kind: str, object_id: int) -> ModeratedItem | None:
    """Why an item is hidden or held (for its owner's note)."""
    return session.scalar(select(ModeratedItem).where(ModeratedItem.kind == kind, ModeratedItem.object_id == object_id))


# --- flags -----------------------------------------------------------------------------------

def _may_view(session: Session, viewer: User, item: Item) -> bool:
    """Whether the viewer may see the item at all (its text is on the flag page)."""
    from challenges.models import Problem
    from challenges.services import can_act_for_claim, can_view_claim
    from childsafe.policy import may_see_person
    from moderation.visibility import evidence_visible, problem_visible, profile_visible, update_visible

    if item.kind == Kind.problem.value:
        return problem_visible(viewer, item.row)
    if item.kind == Kind.update.value:
        return update_visible(viewer, item.row, session.get(Problem, item.row.problem_id))
    if item.kind == Kind.evidence.value:
        return can_view_claim(session, viewer, item.row) and (
            evidence_visible(viewer, item.row) or can_act_for_claim(session, viewer, item.row))
    return may_see_person(session, viewer, item.row) and profile_visible(viewer, item.row)


def flaggable(session: Session, *, actor: User, kind: str, object_id: int) -> Item:
    """The item the actor may see and flag; NotFound for one they may not see (the same
    answer as for no such item, so ids reveal nothing)."""
    item = load_item(session, kind, object_id)
    if not _may_view(session, actor, item):
        raise NotFound(item.kind, object_id)
    return item


def flag(session: Session, *, actor: User, kind: str, object_id: int, reason: str, text: str | None = None,
         now: datetime | None = None) -> Flag:
    """Anyone signed in (not a child: their teacher looks after their world) flags an item
    they can see. One open flag per person and item."""
    refuse_public(actor, "flag content")
    item = flaggable(session, actor=actor, kind=kind, object_id=object_id)
    if item.visibility != PUBLIC:
        raise NothingToDo("This is already out of public view.")
    if actor.id in item.owner_ids:
        raise Forbidden("flag this", "it is your own.")
    text = (text or "").strip() or None
    fields = {}
    if reason not in REASON_LABELS:
        fields["reason"] = ["Choose a reason from the list."]
    if text and len(text) > FLAG_TEXT_MAX:
        fields["text"] = [f"Keep this to {FLAG_TEXT_MAX} characters or fewer."]
    if fields:
        raise ValidationFailed(fields)
    if session.scalar(select(Flag.id).where(Flag.kind == item.kind, Flag.object_id == object_id,
                                            Flag.reporter_id == actor.id, Flag.status == FlagStatus.open.value)):
        raise AlreadyFlagged(item.kind, object_id)
    row = Flag(kind=item.kind, object_id=object_id, reporter_id=actor.id, reason=reason, text=text,
               status=FlagStatus.open.value, created_at=now or utcnow())
    try:
        with session.begin_nested():  # two racing flags by one person: the partial unique index decides
            session.add(row)
            session.flush()
    except IntegrityError:
        raise AlreadyFlagged(item.kind, object_id) from None
    return row


@dataclass
class QueueEntry:
    item: Item
    count: int
    reasons: dict[str, int]
    texts: list[str]
    first_at: datetime


def flag_queue(session: Session, *, actor: User) -> list[QueueEntry]:
    """Open flags grouped by item, with the count and reasons, oldest first."""
    _require_moderator(actor)
    flags = session.scalars(select(Flag).where(Flag.status == FlagStatus.open.value)
                            .order_by(Flag.created_at, Flag.id)).all()
    grouped: dict[tuple[str, int], QueueEntry] = {}
    for row in flags:
        key = (row.kind, row.object_id)
        if key not in grouped:
            try:
                item = load_item(session, row.kind, row.object_id)
            except NotFound:
                continue
            grouped[key] = QueueEntry(item, 0, {}, [], row.created_at)
        entry = grouped[key]
        entry.count += 1
        entry.reasons[row.reason] = entry.reasons.get(row.reason, 0) + 1
        if row.text:
            entry.texts.append(row.text)
    return sorted(grouped.values(), key=lambda e: e.first_at)


def held_queue(session: Session, *, actor: User) -> list[tuple[ModeratedItem, Item]]:
    """Posts the word list held, oldest first."""
    _require_moderator(actor)
    rows = session.scalars(select(ModeratedItem).where(ModeratedItem.state == Visibility.held.value)
                           .order_by(ModeratedItem.created_at, ModeratedItem.id)).all()
    held = []
    for row in rows:
        try:
            item = load_item(session, row.kind, row.object_id)
        except NotFound:  # e.g. evidence a teacher sent back: nothing left to release
            continue
        if item.visibility == Visibility.held.value:  # not since replaced by a clean resubmission
            held.append((row, item))
    return held


def open_flag_count(session: Session) -> int:
    """Items with at least one open flag."""
    items = select(Flag.kind, Flag.object_id).where(Flag.status == FlagStatus.open.value).distinct().subquery()
    return session.scalar(select(func.count()).select_from(items)) or 0


def waiting_count(session: Session) -> int:
    """Items with open flags plus held posts (the Organise page's number)."""
    held = session.scalar(select(func.count()).select_from(ModeratedItem).where(
        ModeratedItem.state == Visibility.held.value)) or 0
    return open_flag_count(session) + held


# --- decisions -------------------------------------------------------------------------------

def _require_moderator(actor) -> None:
    if not is_moderator(actor):
        raise Forbidden("moderate content", "only organisers and admins moderate.")


def _reason(reason: str | None, *, required: bool) -> str | None:
    reason = (reason or "").strip() or None
    if required and not reason:
        raise ValidationFailed({"reason": ["Say why: the owner is shown this."]})
    if reason and len(reason) > REASON_MAX:
        raise ValidationFailed({"reason": [f"Keep this to {REASON_MAX} characters or fewer."]})
    return reason


def _close_flags(session: Session, item: Item, status: FlagStatus, actor: User, now: datetime) -> int:
    return session.execute(update(Flag).where(
        Flag.kind == item.kind, Flag.object_id == item.object_id, Flag.status == FlagStatus.open.value,
    ).values(status=status.value, closed_at=now, closed_by_id=actor.id)
        .execution_options(synchronize_session=False)).rowcount


def hide(session: Session, *, actor: User, kind: str, object_id: int, reason: str | None,
         now: datetime | None = None) -> Item:
    """Take an item out of public view (its owner still sees it, marked, with the reason)."""
    _require_moderator(actor)
    reason = _reason(reason, required=True)
    item = load_item(session, kind, object_id)
    if item.visibility == Visibility.hidden.value:
        raise NothingToDo("This is already hidden.")
    if item.kind == Kind.profile.value and item.row.is_admin:
        raise Forbidden("hide this profile", "an admin's profile cannot be hidden.")
    now = now or utcnow()
    state = _state_row(session, item)
    _set_visibility(item, Visibility.hidden.value)
    state.state, state.reason, state.decided_at, state.decided_by_id = Visibility.hidden.value, reason, now, actor.id
    closed = _close_flags(session, item, FlagStatus.actioned, actor, now)
    audit.record(session, actor=actor, action=Action.hide, object_kind=item.kind, object_id=item.object_id,
                 reason=reason, detail={"flags_closed": closed}, now=now)
    return item


def restore(session: Session, *, actor: User, kind: str, object_id: int, reason: str | None,
            now: datetime | None = None) -> Item:
    """Bring a hidden item back everywhere."""
    _require_moderator(actor)
    reason = _reason(reason, required=True)
    item = load_item(session, kind, object_id)
    if item.visibility != Visibility.hidden.value:
        raise NothingToDo("Only hidden content can be restored.")
    now = now or utcnow()
    state = _state_row(session, item)
    _set_visibility(item, PUBLIC)
    state.state, state.reason, state.decided_at, state.decided_by_id = PUBLIC, reason, now, actor.id
    audit.record(session, actor=actor, action=Action.restore, object_kind=item.kind, object_id=item.object_id,
                 reason=reason, now=now)
    return item


def dismiss(session: Session, *, actor: User, kind: str, object_id: int, reason: str | None = None,
            now: datetime | None = None) -> int:
    """Close an item's open flags without acting on it."""
    _require_moderator(actor)
    reason = _reason(reason, required=False)
    item = load_item(session, kind, object_id)
    now = now or utcnow()
    closed = _close_flags(session, item, FlagStatus.dismissed, actor, now)
    if not closed:
        raise NothingToDo("No open flags on this.")
    audit.record(session, actor=actor, action=Action.dismiss, object_kind=item.kind, object_id=item.object_id,
                 reason=reason, detail={"flags_closed": closed}, now=now)
    return closed


def release(session: Session, *, actor: User, kind: str, object_id: int, reason: str | None = None,
            now: datetime | None = None) -> Item:
    """Publish a post the word list held: everything its publication would have done
    (followers told, webhooks) happens now."""
    _require_moderator(actor)
    reason = _reason(reason, required=False)
    item = load_item(session, kind, object_id)
    if item.visibility != Visibility.held.value:
        raise NothingToDo("This post is not waiting for review.")
    now = now or utcnow()
    state = _state_row(session, item)
    _set_visibility(item, PUBLIC)
    state.state, state.decided_at, state.decided_by_id = PUBLIC, now, actor.id
    audit.record(session, actor=actor, action=Action.release, object_kind=item.kind, object_id=item.object_id,
                 reason=reason, now=now)
    _announce_release(session, item)
    return item


def _announce_release(session: Session, item: Item) -> None:
    from challenges.models import ProblemUpdate
    from notifications.services import publish
    from webhooks import services as webhooks

    if item.kind == Kind.problem.value:
        first = session.scalar(select(ProblemUpdate).where(ProblemUpdate.problem_id == item.object_id)
                               .order_by(ProblemUpdate.id).limit(1))
        if first is not None and first.visibility == PUBLIC:
            publish(session, first)
        webhooks.problem_created(session, item.row)
    elif item.kind == Kind.update.value and item.row.problem.visibility == PUBLIC:
        publish(session, item.row)
