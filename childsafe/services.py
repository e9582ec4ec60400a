"""Holding a child's evidence for a teacher, and who may see a child's claim.

A claim made by a child, or with evidence submitted by one, is a *child claim*. Its
evidence (text and photos) is held (ModerationHold, pending) when submitted. Until one of
the child's teachers approves it, the claim exists only for the child, the members of the
claim's team (the class) and the child's teachers: to every other organiser, and to every
peer reviewer, it is a 404 and it is missing from their review queue. Approval releases it
to organisers (who then review it as usual); peer reviewers never see children's claims.
Rejection sends it back: the claim returns to "taken", its evidence and photos are
deleted, and the child may submit again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, joinedload

import aftercommit
from accounts.models import TeamMembership, User
from challenges.models import Claim, ClaimMember, ClaimStatus, Photo
from childsafe.models import HoldState, ModerationHold
from childsafe.policy import ChildRefused, children_select, is_teacher_of, pupils_select, teacher_ids
from errors import Conflict, Forbidden, NotFound, ValidationFailed
from timeutil import utcnow

DELETED_PHOTOS_KEY = "fixquest.childsafe.deleted_photos"  # session.info: storage keys to delete after commit


class HoldDecided(Conflict):
    code = "hold_decided"

    def __init__(self, hold_id: int, state: str):
        super().__init__(f"This evidence was already {state}.")
        self.hold_id = hold_id
        self.state = state


def hold_of(session: Session, claim_id: int) -> ModerationHold | None:
    return session.scalar(select(ModerationHold).where(ModerationHold.claim_id == claim_id))


def _is_child_claim(claim: Claim, hold: ModerationHold | None) -> bool:
    return bool(claim.user.is_child) or hold is not None


def hold_evidence(session: Session, *, actor: User, claim: Claim, now: datetime | None = None) -> ModerationHold | None:
    """Called when evidence is submitted: hold it if a child submitted it or owns the claim
    (a re-submission after a rejection waits again)."""
    child_id = claim.user_id if claim.user.is_child else actor.id if actor.is_child else None
    if child_id is None:
        return None
    now = now or utcnow()
    hold = hold_of(session, claim.id)
    if hold is None:
        hold = ModerationHold(claim_id=claim.id, child_id=child_id, created_at=now)
        session.add(hold)
    hold.state, hold.created_at, hold.decided_at, hold.decided_by_id = HoldState.pending.value, now, None, None
    session.flush()
    return hold


def _inside(session: Session, user: User, claim: Claim, child_id: int) -> bool:
    """The child, the claim's team (the class) and the child's teachers."""
    if user.id in (claim.user_id, child_id):
        return True
    if claim.team_id is not None and session.scalar(select(TeamMembership.id).where(
            TeamMembership.team_id == claim.team_id, TeamMembership.user_id == user.id)) is not None:
        return True
    return is_teacher_of(session, user, child_id)


def child_claim_access(session: Session, user, claim: Claim) -> bool | None:
    """Whether `user` may see a child's claim, or None when it is not a child's claim and
    the ordinary rules apply: one look for its hold."""
    hold = hold_of(session, claim.id)
    return _may_view(session, user, claim, hold) if _is_child_claim(claim, hold) else None


def _may_view(session: Session, user, claim: Claim, hold: ModerationHold | None) -> bool:
    """For a child claim: the class sees it always, other organisers once a teacher
    released the evidence, nobody else ever."""
    if not getattr(user, "is_authenticated", False):
        return False
    child_id = hold.child_id if hold is not None else claim.user_id
    if _inside(session, user, claim, child_id):
        return True
    return user.is_organiser and not user.is_child and hold is not None and hold.state == HoldState.approved.value


def check_reviewer(session: Session, actor: User, claim: Claim) -> ModerationHold | None:
    """Children review nobody's work (their name would reach the claimant); a child claim is
    reviewed by organisers only, and while its evidence is held only by the child's teachers.
    Returns the claim's hold (None: it has none), for settle_by_teacher."""
    if actor.is_child:
        raise ChildRefused("review other people's claims")
    hold = hold_of(session, claim.id)
    if not _is_child_claim(claim, hold):
        return hold
    if not actor.is_organiser:
        raise Forbidden("review this claim", "children's work is reviewed by organisers.")
    if not _may_view(session, actor, claim, hold):
        raise Forbidden("review this claim", "a teacher checks a child's evidence first.")
    return hold


def may_review_child_claim(session: Session, reviewer: User, claim: Claim) -> bool:
    try:
        check_reviewer(session, reviewer, claim)
    except Forbidden:
        return False
    return True


def review_queue_condition(reviewer: User):
    """A WHERE condition for review queues: children's claims only for organisers, and held
    ones only for the child's teachers."""
    child_claim = or_(Claim.user_id.in_(children_select()),
                      Claim.id.in_(select(ModerationHold.claim_id)))
    if not reviewer.is_organiser or reviewer.is_child:
        return ~child_claim
    released = Claim.id.in_(select(ModerationHold.claim_id).where(ModerationHold.state == HoldState.approved.value))
    my_pupils_claim = or_(Claim.user_id.in_(pupils_select(reviewer.id)),
                          Claim.id.in_(select(ModerationHold.claim_id).where(
                              ModerationHold.child_id.in_(pupils_select(reviewer.id)))))
    return or_(~child_claim, released, my_pupils_claim)


# --- the teacher's queue ------------------------------------------------------------------

@dataclass(frozen=True)
class Waiting:
    hold: ModerationHold
    claim: Claim
    photos: list[Photo]


def waiting_for(session: Session, teacher: User) -> list[Waiting]:
    """Evidence of this teacher's pupils waiting for a decision, oldest first (two queries)."""
    holds = list(session.scalars(
        select(ModerationHold).where(ModerationHold.state == HoldState.pending.value,
                                     ModerationHold.child_id.in_(pupils_select(teacher.id)))
        .options(joinedload(ModerationHold.claim).joinedload(Claim.quest),
                 joinedload(ModerationHold.claim).joinedload(Claim.team),
                 joinedload(ModerationHold.child))
        .order_by(ModerationHold.created_at, ModerationHold.id)))
    photos: dict[int, list[Photo]] = {}
    if holds:
        for photo in session.scalars(select(Photo).where(Photo.claim_id.in_([h.claim_id for h in holds]))
                                     .order_by(Photo.created_at, Photo.id)):
            photos.setdefault(photo.claim_id, []).append(photo)
    return [Waiting(h, h.claim, photos.get(h.claim_id, [])) for h in holds]


def get_hold(session: Session, hold_id: int) -> ModerationHold:
    hold = session.get(ModerationHold, hold_id)
    if hold is None:
        raise NotFound("held evidence", hold_id)
    return hold


def decide(session: Session, *, actor: User, hold: ModerationHold, decision: str,
           now: datetime | None = None) -> ModerationHold:
    """A teacher approves (releases to reviewers) or rejects (sends back) held evidence."""
    if decision not in ("approve", "reject"):
        raise ValidationFailed({"decision": ["Choose approve or reject."]})
    if actor.id not in teacher_ids(session, hold.child_id):
        raise Forbidden("decide on this evidence", "only the child's teachers can.")
    locked = session.execute(update(ModerationHold).where(
        ModerationHold.id == hold.id, ModerationHold.state == HoldState.pending.value).values(
        state=HoldState.approved.value if decision == "approve" else HoldState.rejected.value,
        decided_at=now or utcnow(), decided_by_id=actor.id).execution_options(synchronize_session=False))
    if locked.rowcount != 1:
        session.refresh(hold)
        raise HoldDecided(hold.id, hold.state)
    if decision == "reject":
        _send_back(session, hold.claim_id)
    session.refresh(hold)
    return hold


def settle_by_teacher(session: Session, *, actor: User, hold: ModerationHold | None, decision: str,
                      now: datetime | None = None) -> None:
    """A teacher who reviews their pupil's held claim has read the evidence: approving the
    claim releases it, rejecting it keeps it unpublished. Either way it leaves the queue.
    `hold` is the one check_reviewer found."""
    if hold is None or hold.state != HoldState.pending.value or actor.id not in teacher_ids(session, hold.child_id):
        return
    hold.state = HoldState.approved.value if decision == "approve" else HoldState.rejected.value
    hold.decided_at, hold.decided_by_id = now or utcnow(), actor.id
    session.flush()


def _send_back(session: Session, claim_id: int) -> None:
    """The claim returns to "taken" without its evidence, members or photos (if it was not
    reviewed meanwhile); the photos' files go after the commit."""
    moved = session.execute(update(Claim).where(Claim.id == claim_id, Claim.status == ClaimStatus.submitted.value)
                            .values(status=ClaimStatus.taken.value, evidence=None, submitted_at=None)
                            .execution_options(synchronize_session=False)).rowcount
    if not moved:
        return
    session.execute(delete(ClaimMember).where(ClaimMember.claim_id == claim_id))
    keys = list(session.scalars(select(Photo.storage_key).where(Photo.claim_id == claim_id)))
    session.execute(delete(Photo).where(Photo.claim_id == claim_id))
    for key in keys:
        aftercommit.queue(session, DELETED_PHOTOS_KEY, key)
    session.expire_all()
