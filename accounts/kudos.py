"""Kudos: a participant thanking the people behind an approved fix. No points move.

One per giver and fix (a unique constraint, so a double click or a race records one).
Nobody thanks a fix they are credited for (the claimant, or a member listed as taking
part). A child's fix (its claimant `is_child`) is thanked only by those who may see the
claim (its team and organisers), and its kudos never appear on a public page; a giver
who is a child, or hidden from the boards, is counted on public pages but not named.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from accounts.models import Kudos, User
from challenges.models import Claim, ClaimMember, ClaimStatus, Quest
from challenges.services import can_view_claim
from errors import Conflict, Forbidden, NotFound
from scoring.badges import credited_claims
from timeutil import utcnow

RECENT = 5


class FixNotApproved(Conflict):
    code = "fix_not_approved"

    def __init__(self, claim_id: int, status: str):
        super().__init__("Only approved fixes can be thanked.")
        self.claim_id = claim_id
        self.claim_status = status


class AlreadyThanked(Conflict):
    code = "already_thanked"

    def __init__(self, claim_id: int):
        super().__init__("You have already thanked them for this fix.")
        self.claim_id = claim_id


# Not named beside a thank-you: a child, someone hidden from the boards, a profile a moderator hid.
UNNAMED = User.unnamed_in_public.label("unnamed")


def credited_ids(session: Session, claim: Claim) -> set[int]:
    """Who a fix credits: the members listed as taking part, else the claimant."""
    listed = set(session.scalars(select(ClaimMember.user_id).where(ClaimMember.claim_id == claim.id)))
    return listed | {claim.user_id}


def _is_public_fix(claim: Claim) -> bool:
    return not claim.user.is_child


def give_kudos(session: Session, *, actor: User, claim: Claim, now: datetime | None = None) -> Kudos:
    if not _is_public_fix(claim) and not can_view_claim(session, actor, claim):
        raise NotFound("claim", claim.id)  # a child's fix does not exist for strangers
    if claim.status != ClaimStatus.approved.value:
        raise FixNotApproved(claim.id, claim.status)
    if actor.id in credited_ids(session, claim):
        raise Forbidden("thank this fix", "it is your own.")
    kudos = Kudos(claim_id=claim.id, giver_id=actor.id, created_at=now or utcnow())
    try:
        with session.begin_nested():
            session.add(kudos)
    except IntegrityError:
        raise AlreadyThanked(claim.id) from None
    return kudos


def may_thank(session: Session, user, claim: Claim) -> bool:
    """Whether `user` (or the anonymous user) could thank this fix now."""
    if not getattr(user, "is_authenticated", False) or claim.status != ClaimStatus.approved.value:
        return False
    if user.id in credited_ids(session, claim):
        return False
    return session.scalar(select(Kudos.id).where(Kudos.claim_id == claim.id, Kudos.giver_id == user.id)) is None


@dataclass(frozen=True)
class ClaimKudos:
    count: int
    names: list[str]   # the givers who may be named (child and hidden givers are only counted)
    may_thank: bool


def for_claim(session: Session, claim: Claim, viewer) -> ClaimKudos:
    """The kudos on one fix, for its (private) claim page."""
    givers = session.execute(select(User.display_name, UNNAMED)
                             .join(Kudos, Kudos.giver_id == User.id).where(Kudos.claim_id == claim.id)
                             .order_by(Kudos.id)).all()
    names = [g.display_name for g in givers if not g.unnamed]
    return ClaimKudos(len(givers), names, may_thank(session, viewer, claim))


@dataclass(frozen=True)
class Thanks:
    giver: str | None  # None: someone who may not be named publicly
    quest_id: int
    quest_title: str
    at: datetime


@dataclass(frozen=True)
class ThankableFix:
    claim_id: int
    quest_title: str
    thanked: bool


@dataclass(frozen=True)
class ProfileKudos:
    total: int
    recent: list[Thanks]
    fixes: list[ThankableFix]  # the person's recent fixes the viewer may thank (empty if none)


def _public_claims(user_id: int):
    """Approved fixes credited to `user_id` whose claimant is not a child."""
    claimant = aliased(User)
    child = select(claimant.is_child).where(claimant.id == Claim.user_id).correlate(Claim).scalar_subquery()
    return and_(Claim.status == ClaimStatus.approved.value, credited_claims(user_id), child.is_(False))


def for_profile(session: Session, person: User, viewer, *, limit: int = RECENT) -> ProfileKudos | None:
    """Kudos a person received for their public fixes, and (for a logged-in viewer who is
    someone else) their recent fixes to thank. None for a child: nothing is shown."""
    if person.is_child:
        return None
    mine = _public_claims(person.id)
    rows = session.execute(  # one query: the newest thanks, each row carrying the total
        select(User.display_name, UNNAMED, Quest.id, Quest.title, Kudos.created_at,
               func.count(Kudos.id).over().label("total"))
        .select_from(Kudos).join(Claim, Claim.id == Kudos.claim_id).join(Quest, Quest.id == Claim.quest_id)
        .join(User, User.id == Kudos.giver_id).where(mine)
        .order_by(Kudos.created_at.desc(), Kudos.id.desc()).limit(limit)).all()
    total = rows[0].total if rows else 0
    recent = [Thanks(None if r.unnamed else r.display_name, r.id, r.title, r.created_at)
              for r in rows]
    fixes: list[ThankableFix] = []
    if getattr(viewer, "is_authenticated", False) and viewer.id != person.id:
        thanked = select(Kudos.id).where(Kudos.claim_id == Claim.id, Kudos.giver_id == viewer.id).exists()
        credits_viewer = credited_claims(viewer.id)
        fixes = [ThankableFix(r.id, r.title, bool(r.thanked)) for r in session.execute(
            select(Claim.id, Quest.title, thanked.label("thanked")).join(Quest, Quest.id == Claim.quest_id)
            .where(mine, ~credits_viewer).order_by(Claim.decided_at.desc(), Claim.id.desc()).limit(limit)).all()]
    return ProfileKudos(total, recent, fixes)
