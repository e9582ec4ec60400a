"""Reviewing claims and paying for them.

A quest is reviewed by one organiser, or by N independent peer reviews (participants who
reached the configured level, who are neither the claimant nor in the claimant's team).
Organisers can always decide. Each reviewer reviews a claim once; each completed review
earns the reviewer a small fixed amount, so the people who check work are seen too.

Payment is "settling" a claim to a target: the points each beneficiary should hold for it
(the quest's value times its difficulty multiplier, split among the team members who took
part). The first approval settles from nothing; when a dynamic quest's value falls, every
earlier solver is settled to the new value with 'rescore' entries; a reversal settles to
nothing with entries that name what they undo. Every entry has an idempotency key, so a
repeated or racing request can never pay twice.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from accounts.services import team_ids_of
from challenges import rules as challenge_rules
from challenges.models import Claim, ClaimMember, ClaimStatus, Quest, Review, ReviewMode
from challenges import services
from campaigns import services as campaigns
from challenges.services import ClaimNotInState, can_act_for_claim, level_of
from childsafe.models import ModerationHold
from childsafe.services import check_reviewer as check_child_reviewer
from childsafe.services import may_review_child_claim, review_queue_condition
from childsafe.services import settle_by_teacher as settle_child_hold
from errors import Conflict, Forbidden, ValidationFailed
from events import services as event_hooks
from integrity import services as integrity
from scoring import badges, ledger
from scoring.models import LedgerEntry
from scoring.rules import ScoringSettings, dynamic_value, quest_award, review_outcome, split_award
from timeutil import utcnow
from webhooks import services as webhooks

DEFAULT_SETTINGS = ScoringSettings()
PAYOUT_KINDS = ("award", "rescore", "reversal")


class AlreadyReviewed(Conflict):
    code = "already_reviewed"

    def __init__(self, claim_id: int):
        super().__init__("You have already reviewed this claim.")
        self.claim_id = claim_id


def _peer_review_refusal(session: Session, reviewer: User, claim: Claim, settings: ScoringSettings) -> str | None:
    """Why this participant may not peer-review this claim, or None if they may."""
    if claim.quest.review_mode != ReviewMode.peer.value:
        return "this quest is reviewed by an organiser."
    if level_of(session, reviewer.id) < settings.peer_review_level:
        return f"peer reviewers need to reach level {settings.peer_review_level} first."
    return None


def may_review(session: Session, reviewer: User, claim: Claim,
               settings: ScoringSettings = DEFAULT_SETTINGS) -> bool:
    if can_act_for_claim(session, reviewer, claim) or not may_review_child_claim(session, reviewer, claim):
        return False
    if reviewer.is_organiser:
        return True
    if _peer_review_refusal(session, reviewer, claim, settings) is not None:
        return False
    return session.scalar(select(Review.id).where(Review.claim_id == claim.id,
                                                  Review.reviewer_id == reviewer.id)) is None


def can_view_claim(session: Session, user: User, claim: Claim,
                   settings: ScoringSettings = DEFAULT_SETTINGS) -> bool:
    """The claimant, their team, organisers, and the peer reviewers it is waiting for."""
    return services.can_view_claim(session, user, claim) or (
        claim.status == ClaimStatus.submitted.value and may_review(session, user, claim, settings))


def _check_reviewer(session: Session, actor: User, claim: Claim, settings: ScoringSettings) -> ModerationHold | None:
    """Refuse a reviewer who may not decide this claim; returns the claim's moderation hold."""
    hold = check_child_reviewer(session, actor, claim)
    if can_act_for_claim(session, actor, claim):
        raise Forbidden("review this claim", "nobody reviews their own or their team's work.")
    if not actor.is_organiser:
        refusal = _peer_review_refusal(session, actor, claim, settings)
        if refusal:
            raise Forbidden("review this claim", refusal)
    return hold


def _check_decision(decision: str, reason: str) -> None:
    if decision not in ("approve", "reject"):
        raise ValidationFailed({"decision": ["Choose approve or reject."]})
    if decision == "reject" and not reason:
        raise ValidationFailed({"reason": ["Say why, so the claimant can put it right."]})
    if len(reason) > challenge_rules.REASON_MAX:
        raise ValidationFailed({"reason": [f"Keep this to {challenge_rules.REASON_MAX} characters or fewer."]})


def _lock(session: Session, claim: Claim) -> Claim:
    """Re-read the claim holding its row lock (PostgreSQL), so that reviews of one claim
    take turns: the state we decide on is the state we write over."""
    return session.execute(select(Claim).where(Claim.id == claim.id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()


def review_claim(session: Session, *, actor: User, claim: Claim, decision: str, reason: str | None = None,
                 settings: ScoringSettings = DEFAULT_SETTINGS, now: datetime | None = None) -> Claim:
    """Record one review. An organiser's decides the claim; peer reviews decide it when
    enough agree (scoring.rules.review_outcome). Approval pays the quest's value once."""
    reason = (reason or "").strip()
    _check_decision(decision, reason)
    hold = _check_reviewer(session, actor, claim, settings)
    now = now or utcnow()
    claim = _lock(session, claim)
    if claim.status != ClaimStatus.submitted.value:
        raise ClaimNotInState(claim.id, claim.status, ClaimStatus.submitted.value)
    if session.scalar(select(Review.id).where(Review.claim_id == claim.id, Review.reviewer_id == actor.id)):
        raise AlreadyReviewed(claim.id)
    review = Review(claim_id=claim.id, reviewer_id=actor.id, decision=decision, reason=reason or None,
                    created_at=now)
    session.add(review)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AlreadyReviewed(claim.id) from None
    settle_child_hold(session, actor=actor, hold=hold, decision=decision, now=now)
    credited = {actor.id}
    if settings.reviewer_points:
        ledger.award(session, key=f"review:{claim.id}:{actor.id}", amount=settings.reviewer_points,
                     reason=f"Reviewed a claim on: {claim.quest.title}", user_id=actor.id,
                     claim_id=claim.id, kind="review")
    outcome = decision if actor.is_organiser else _peer_outcome(session, claim)
    if outcome is not None:
        claim.status = ClaimStatus.approved.value if outcome == "approve" else ClaimStatus.rejected.value
        claim.decided_at = now
        session.flush()
        if outcome == "approve":
            claim.unpaid_reason = integrity.fix_cycle_refusal(session, claim, now=now,
                                                              cooldown_days=settings.fix_cooldown_days)
            if claim.unpaid_reason is None:
                credited |= _pay_approval(session, claim, settings)
            _check_bursts(session, claim, settings, now)
            event_hooks.claim_scored(session, claim, now)  # an event's scoreboard goes live
            webhooks.claim_approved(session, claim)
            campaigns.after_approval(session, claim=claim, now=now)  # milestones, campaign badges, live progress
    _evaluate_badges(session, credited, now)
    session.flush()
    return claim


def _check_bursts(session: Session, claim: Claim, settings: ScoringSettings, now: datetime) -> None:
    """Every reviewer whose approval decided the claim, against the claimant (integrity/)."""
    approvers = session.scalars(select(Review.reviewer_id).where(Review.claim_id == claim.id,
                                                                Review.decision == "approve")).all()
    for reviewer_id in sorted(approvers):
        integrity.check_approval(session, claim=claim, reviewer_id=reviewer_id, now=now,
                                 limit=settings.burst_limit, hours=settings.burst_hours)


def _peer_outcome(session: Session, claim: Claim) -> str | None:
    counts = dict(session.execute(select(Review.decision, func.count()).where(Review.claim_id == claim.id)
                                  .group_by(Review.decision)).all())
    return review_outcome(counts.get("approve", 0), counts.get("reject", 0), claim.quest.peer_reviews_needed)


# --- payouts -------------------------------------------------------------------------------

def members_who_took_part(session: Session, claim: Claim) -> list[int]:
    listed = session.scalars(select(ClaimMember.user_id).where(ClaimMember.claim_id == claim.id)
                             .order_by(ClaimMember.id)).all()
    return list(listed) or [claim.user_id]


def _target(session: Session, claim: Claim, value: int, settings: ScoringSettings) -> dict[tuple, int]:
    """What each beneficiary should hold for this claim: {(user_id, team_id): points}."""
    amount = quest_award(value, claim.quest.difficulty, settings.multipliers)
    if claim.team_id is None:
        return {(claim.user_id, None): amount, **_class_credit(session, claim, amount)}
    target = {(None, claim.team_id): amount}
    for user_id, share in split_award(amount, members_who_took_part(session, claim), settings.team_split).items():
        target[(user_id, None)] = share
    return target


def _class_credit(session: Session, claim: Claim, amount: int) -> dict[tuple, int]:
    """A school-class child's solo work also counts for their class's team (classes/)."""
    if not claim.user.is_child:
        return {}
    from classes.services import class_team_for_claim

    team_id = class_team_for_claim(session, claim)
    return {} if team_id is None else {(None, team_id): amount}


def _paid(session: Session, claim_id: int) -> dict[tuple, int]:
    paid: dict[tuple, int] = defaultdict(int)
    rows = session.execute(select(LedgerEntry.user_id, LedgerEntry.team_id, func.sum(LedgerEntry.amount))
                           .where(LedgerEntry.claim_id == claim_id, LedgerEntry.kind.in_(PAYOUT_KINDS))
                           .group_by(LedgerEntry.user_id, LedgerEntry.team_id)).all()
    for user_id, team_id, total in rows:
        if user_id is not None and team_id is not None:  # a foundation-era row credited both
            paid[(user_id, None)] += int(total)
            paid[(None, team_id)] += int(total)
        else:
            paid[(user_id, team_id)] += int(total)
    return paid


def _settle(session: Session, claim: Claim, target: dict[tuple, int], *, key: str, kind: str,
            reason: str) -> set[int]:
    """Write the differences between what the claim paid and `target`; returns the users
    credited. `key` makes each settlement happen once."""
    paid = _paid(session, claim.id)
    credited = set()
    for beneficiary in sorted(set(target) | set(paid), key=str):
        difference = target.get(beneficiary, 0) - paid.get(beneficiary, 0)
        if difference == 0:
            continue
        user_id, team_id = beneficiary
        who = f"u{user_id}" if user_id is not None else f"t{team_id}"
        ledger.award(session, key=f"{key}:{who}", amount=difference, reason=reason, user_id=user_id,
                     team_id=team_id, claim_id=claim.id, kind=kind)
        if user_id is not None:
            credited.add(user_id)
    return credited


def quest_value(session: Session, quest: Quest) -> int:
    """The quest's current base value: fixed, or dynamic by how many have solved it."""
    if quest.dynamic_min_points is None:
        return quest.points
    solves = session.scalar(select(func.count()).select_from(Claim).where(
        Claim.quest_id == quest.id, Claim.status == ClaimStatus.approved.value))
    return dynamic_value(quest.points, quest.dynamic_min_points, quest.dynamic_decay or 10, solves)


def _pay_approval(session: Session, claim: Claim, settings: ScoringSettings) -> set[int]:
    quest = claim.quest
    value = quest_value(session, quest)
    credited = _settle(session, claim, _target(session, claim, value, settings), key=f"claim:{claim.id}:approved",
                       kind="award", reason=f"Quest completed: {quest.title}")
    if quest.dynamic_min_points is not None:
        credited |= _rescore_solvers(session, quest, value, settings, except_claim=claim.id)
    return credited


def _rescore_solvers(session: Session, quest: Quest, value: int, settings: ScoringSettings, *,
                     except_claim: int) -> set[int]:
    """The value fell: everyone who solved it now holds the new value."""
    credited = set()
    solved = session.scalars(select(Claim).where(Claim.quest_id == quest.id, Claim.id != except_claim,
                                                 Claim.status == ClaimStatus.approved.value,
                                                 Claim.unpaid_reason.is_(None))).all()
    for other in solved:
        credited |= _settle(session, other, _target(session, other, value, settings),
                            key=f"claim:{other.id}:rescore:{value}", kind="rescore",
                            reason=f"Quest value now {value}: {quest.title}")
    return credited


def reverse_claim(session: Session, *, actor: User, claim: Claim, reason: str,
                  now: datetime | None = None) -> Claim:
    """An approved claim found to be fraudulent: every point it paid is reversed by
    compensating entries that name the originals, and the claim is marked reversed."""
    if not actor.is_organiser:
        raise Forbidden("reverse claims", "only organisers reverse approved claims.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": ["Say why the claim is being reversed."]})
    claim = _lock(session, claim)
    if claim.status != ClaimStatus.approved.value:
        raise ClaimNotInState(claim.id, claim.status, ClaimStatus.approved.value)
    entries = session.scalars(select(LedgerEntry).where(
        LedgerEntry.claim_id == claim.id, LedgerEntry.kind.in_(("award", "rescore")))).all()
    for entry in entries:
        ledger.reverse(session, entry=entry, reason=f"Reversed: {reason}"[:200])
    claim.status = ClaimStatus.reversed.value
    claim.decided_at = now or utcnow()
    session.flush()
    event_hooks.claim_scored(session, claim, claim.decided_at)
    return claim


def _evaluate_badges(session: Session, user_ids: set[int], now: datetime) -> None:
    for user_id in sorted(user_ids):
        badges.evaluate(session, user_id=user_id, now=now)


# --- queues --------------------------------------------------------------------------------

def review_queue(session: Session, reviewer: User, settings: ScoringSettings = DEFAULT_SETTINGS) -> list[Claim]:
    """Submitted claims, oldest first, that this reviewer may decide or peer-review."""
    team_ids = team_ids_of(session, reviewer.id)
    stmt = (select(Claim).join(Quest).where(Claim.status == ClaimStatus.submitted.value, Claim.user_id != reviewer.id)
            .options(joinedload(Claim.quest), joinedload(Claim.user), joinedload(Claim.team))
            .order_by(Claim.submitted_at, Claim.id))
    if reviewer.is_child:
        return []
    stmt = stmt.where(review_queue_condition(reviewer))
    if team_ids:
        stmt = stmt.where((Claim.team_id.is_(None)) | (Claim.team_id.not_in(team_ids)))
    if not reviewer.is_organiser:
        if level_of(session, reviewer.id) < settings.peer_review_level:
            return []
        reviewed = select(Review.claim_id).where(Review.reviewer_id == reviewer.id)
        stmt = stmt.where(Quest.review_mode == ReviewMode.peer.value, Claim.id.not_in(reviewed))
    return list(session.scalars(stmt).unique())
