"""The quest loop: report, make a quest, claim, submit evidence, review.

Functions take the session and the acting user explicitly, raise DomainError subclasses,
flush, and leave committing to the caller (a view, an API route or a CLI command).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from accounts.services import EmailNotVerified, is_member, needs_verification, team_ids_of
from challenges import geo, rules
from childsafe.policy import refuse_public
from childsafe.services import child_claim_access, hold_evidence
from accounts.models import SYSTEM_ROLE, TeamMembership
from challenges.models import (LIVE_CLAIM_STATES, Claim, ClaimMember, ClaimStatus, Delivery, Problem, ProblemStatus,
                               ProblemUpdate, Quest, QuestMode, QuestStatus, Subscription, SubscriptionKind)
from errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from events import guards as event_guards
from maps.area import BBox
from maps.services import in_bbox
from moderation import wordlist
from moderation.models import PUBLIC
from notifications.services import publish
from scoring import ledger
from scoring.levels import level_for
from timeutil import as_utc, utcnow
from webhooks import services as webhooks


class QuestClosed(Conflict):
    code = "quest_closed"

    def __init__(self, quest_id: int, ends_at: datetime):
        super().__init__("This quest has ended; it can no longer be claimed or submitted.")
        self.quest_id = quest_id
        self.ends_at = ends_at


class QuestNotStarted(Conflict):
    code = "quest_not_started"

    def __init__(self, quest_id: int, starts_at: datetime):
        super().__init__(f"This quest opens at {starts_at:%d %b %Y %H:%M} UTC.")
        self.quest_id = quest_id
        self.starts_at = starts_at


class AlreadyClaimed(Conflict):
    code = "already_claimed"

    def __init__(self, quest_id: int, team_id: int | None):
        who = "Your team already has" if team_id else "You already have"
        super().__init__(f"{who} a claim on this quest that is open or approved.")
        self.quest_id = quest_id
        self.team_id = team_id


class ClaimNotInState(Conflict):
    code = "claim_state"

    def __init__(self, claim_id: int, claim_status: str, wanted: str):
        super().__init__(f"This claim is {claim_status}; it needs to be {wanted} for that.")
        self.claim_id = claim_id
        self.claim_status = claim_status  # not `status`: that is the HTTP status (409)
        self.wanted = wanted


class WrongQuestMode(DomainError):
    status = 422
    code = "wrong_quest_mode"

    def __init__(self, quest_id: int, mode: str):
        message = ("This is a team quest: choose one of your teams." if mode == QuestMode.team.value
                   else "This is a solo quest: claim it for yourself, not a team.")
        super().__init__(message, fields={"team_id": [message]})
        self.quest_id = quest_id
        self.mode = mode


# --- problems ------------------------------------------------------------------------------

def reports_left_unverified(session: Session, actor: User, limit: int) -> int | None:
    """How many more problems `actor` may report before confirming their email; None when
    no limit applies to them."""
    if not limit or not needs_verification(actor):
        return None
    reported = session.scalar(select(func.count(Problem.id)).where(Problem.reporter_id == actor.id))
    return max(0, limit - reported)


def report_problem(session: Session, *, actor: User, title: str, description: str,
                   category: str, lat: float, lon: float, address: str | None,
                   categories: Sequence[str], now: datetime | None = None,
                   unverified_limit: int = 0) -> Problem:
    """A new public problem. `unverified_limit` (0: none) caps how many a participant whose
    email is not yet confirmed may report (EmailNotVerified past it)."""
    refuse_public(actor, "report a public problem")
    if reports_left_unverified(session, actor, unverified_limit) == 0:
        raise EmailNotVerified(unverified_limit)
    fields = rules.problem_problems(title=title, description=description, category=category,
                                    lat=lat, lon=lon, address=address, categories=categories)
    if fields:
        raise ValidationFailed(fields)
    now = now or utcnow()
    problem = Problem(title=title.strip(), description=description.strip(), category=category,
                      lat=float(lat), lon=float(lon), cell=geo.cell_of(float(lat), float(lon)),
                      address=(address or "").strip() or None,
                      reporter_id=actor.id, status=ProblemStatus.open.value,
                      created_at=now, updated_at=now, subscribers_count=1, confirmations_count=0)
    session.add(problem)
    session.flush()
    held = wordlist.hold_if_listed(session, problem, kind="problem", owner_id=actor.id, now=now,
                                   texts=(problem.title, problem.description, problem.address))
    entry = ProblemUpdate(problem_id=problem.id, author_id=actor.id, kind="reported",
                          new_status=problem.status, created_at=now)
    session.add_all([entry, Subscription(user_id=actor.id, kind=SubscriptionKind.problem.value,
                                         problem_id=problem.id, delivery=Delivery.immediate.value)])
    session.flush()
    if not held:  # a held report is announced when a moderator releases it (moderation.services.release)
        publish(session, entry)  # area and category subscribers hear of new problems
        webhooks.problem_created(session, problem)
    return problem


def get_problem(session: Session, problem_id: int) -> Problem:
    problem = session.get(Problem, problem_id)
    if problem is None:
        raise NotFound("problem", problem_id)
    return problem


def problems_select(*, category: str | None = None, status: str | None = None,
                    bbox: BBox | None = None, updated_since: datetime | None = None) -> Select:
    """Newest first, optionally filtered (in a box; changed at or after a time), without
    problems merged into others; for pagination by the caller."""
    stmt = (select(Problem).where(Problem.merged_into_id.is_(None), Problem.visibility == PUBLIC)
            .order_by(Problem.created_at.desc(), Problem.id.desc()))
    if category:
        stmt = stmt.where(Problem.category == category)
    if status:
        stmt = stmt.where(Problem.status == status)
    if bbox is not None:
        stmt = stmt.where(in_bbox(bbox))
    if updated_since is not None:
        stmt = stmt.where(Problem.updated_at >= updated_since)
    return stmt


def may_change_status(actor: User, problem: Problem) -> bool:
    """Organisers; and a system account (an Open311 source) for the problems it reported,
    since that source is the authority on them. Nobody else."""
    return actor.is_organiser or (actor.role == SYSTEM_ROLE and problem.reporter_id == actor.id)


def change_status(session: Session, *, actor: User, problem: Problem, status: str,
                  note: str | None = None, now: datetime | None = None) -> ProblemUpdate:
    if not may_change_status(actor, problem):
        raise Forbidden("change a problem's status", "only organisers do that.")
    if problem.merged_into_id is not None:
        raise Conflict(f"Problem #{problem.id} was merged into #{problem.merged_into_id}; update that one.")
    if status not in {s.value for s in ProblemStatus}:
        raise ValidationFailed({"status": [f"Choose one of: {', '.join(s.value for s in ProblemStatus)}."]})
    if status == problem.status:
        raise ValidationFailed({"status": [f"The problem is already {status.replace('_', ' ')}."]})
    if note and len(note) > rules.REASON_MAX:
        raise ValidationFailed({"note": [f"Keep this to {rules.REASON_MAX} characters or fewer."]})
    now = now or utcnow()
    entry = ProblemUpdate(problem_id=problem.id, author_id=actor.id, kind="status",
                          old_status=problem.status, new_status=status,
                          body=(note or "").strip() or None, created_at=now)
    problem.status = status
    problem.updated_at = now
    session.add(entry)
    session.flush()
    if wordlist.hold_if_listed(session, entry, kind="update", owner_id=actor.id, texts=(entry.body,), now=now):
        return entry  # the status changed; its note waits for a moderator (release announces it)
    publish(session, entry)
    if problem.visibility == PUBLIC:
        webhooks.problem_status_changed(session, entry)
    return entry


# --- quests --------------------------------------------------------------------------------

class QuestNotPublished(Conflict):
    code = "quest_not_published"

    def __init__(self, quest_id: int):
        super().__init__("This quest is a proposal: an organiser has not published it yet.")
        self.quest_id = quest_id


def level_of(session: Session, user_id: int) -> int:
    return level_for(ledger.lifetime_points(session, user_id)).number


def may_propose_quests(session: Session, user: User, propose_level: int) -> bool:
    return user.is_organiser or level_of(session, user.id) >= propose_level


def create_quest(session: Session, *, actor: User, title: str, brief: str, points: int,
                 difficulty: str, mode: str, evidence_wanted: str,
                 starts_at: datetime | None = None, ends_at: datetime | None = None,
                 problem_id: int | None = None, review_mode: str = "organiser", peer_reviews_needed: int = 2,
                 dynamic_min_points: int | None = None, dynamic_decay: int | None = None,
                 propose_level: int = 5, now: datetime | None = None) -> Quest:
    """Organisers publish quests; participants who reached `propose_level` may propose
    them, for an organiser to publish."""
    refuse_public(actor, "propose a public quest")
    if not may_propose_quests(session, actor, propose_level):
        raise Forbidden("create quests", f"organisers make quests, and players may propose them from level "
                                         f"{propose_level}.")
    now = now or utcnow()
    starts_at, ends_at = as_utc(starts_at), as_utc(ends_at)
    fields = rules.quest_problems(title=title, brief=brief, points=points, difficulty=difficulty,
                                  mode=mode, evidence_wanted=evidence_wanted,
                                  starts_at=starts_at, ends_at=ends_at, now=now)
    fields.update(rules.review_problems(review_mode=review_mode, peer_reviews_needed=peer_reviews_needed,
                                        points=points, dynamic_min_points=dynamic_min_points,
                                        dynamic_decay=dynamic_decay))
    if problem_id is not None and session.get(Problem, problem_id) is None:
        fields["problem_id"] = [f"There is no problem #{problem_id}."]
    if fields:
        raise ValidationFailed(fields)
    quest = Quest(title=title.strip(), brief=brief.strip(), points=points, difficulty=difficulty,
                  mode=mode, evidence_wanted=evidence_wanted.strip(), starts_at=starts_at,
                  ends_at=ends_at, problem_id=problem_id, created_by_id=actor.id, created_at=now,
                  review_mode=review_mode, peer_reviews_needed=peer_reviews_needed,
                  dynamic_min_points=dynamic_min_points, dynamic_decay=dynamic_decay,
                  status=QuestStatus.published.value if actor.is_organiser else QuestStatus.proposed.value)
    session.add(quest)
    session.flush()
    return quest


def publish_quest(session: Session, *, actor: User, quest: Quest) -> Quest:
    if not actor.is_organiser:
        raise Forbidden("publish quests", "only organisers publish proposed quests.")
    if quest.status != QuestStatus.proposed.value:
        raise Conflict("This quest is already published.")
    quest.status = QuestStatus.published.value
    session.flush()
    return quest


def can_see_quest(user, quest: Quest) -> bool:
    """Published quests are public; a proposal is seen by organisers and its proposer."""
    if quest.status == QuestStatus.published.value:
        return True
    return user is not None and user.is_authenticated and (user.is_organiser or quest.created_by_id == user.id)


def proposed_quests_select() -> Select:
    return (select(Quest).where(Quest.status == QuestStatus.proposed.value)
            .options(joinedload(Quest.created_by)).order_by(Quest.created_at, Quest.id))


def get_quest(session: Session, quest_id: int) -> Quest:
    quest = session.get(Quest, quest_id)
    if quest is None:
        raise NotFound("quest", quest_id)
    return quest


def open_quests_select(now: datetime | None = None) -> Select:
    """Quests still open, soonest-closing first; quests with no end time last."""
    now = now or utcnow()
    return (select(Quest).where(Quest.status == QuestStatus.published.value,
                                or_(Quest.ends_at.is_(None), Quest.ends_at > now),
                                Quest.id.not_in(event_guards.hidden_quest_ids(now)))
            .order_by(Quest.ends_at.is_(None), Quest.ends_at, Quest.id.desc()))


def _check_window(quest: Quest, now: datetime) -> None:
    if quest.ends_at is not None and now >= quest.ends_at:
        raise QuestClosed(quest.id, quest.ends_at)
    if quest.starts_at is not None and now < quest.starts_at:
        raise QuestNotStarted(quest.id, quest.starts_at)


# --- claims --------------------------------------------------------------------------------

def _live_claim_exists(session: Session, quest_id: int, *, user_id: int, team_id: int | None) -> bool:
    stmt = select(Claim.id).where(Claim.quest_id == quest_id, Claim.status.in_(LIVE_CLAIM_STATES))
    stmt = stmt.where(Claim.team_id == team_id) if team_id else stmt.where(
        Claim.user_id == user_id, Claim.team_id.is_(None))
    return session.scalar(stmt) is not None


def claim_quest(session: Session, *, actor: User, quest: Quest, team_id: int | None = None,
                now: datetime | None = None) -> Claim:
    """Take a quest alone (solo quests) or for one of the actor's teams (team quests).

    The partial unique indexes on claims are the real guard against two racing claims; the
    check before the insert only gives the usual case a friendly answer. If the index
    fires, the transaction is rolled back (it cannot continue) and AlreadyClaimed raised.
    """
    now = now or utcnow()
    if quest.status != QuestStatus.published.value:
        raise QuestNotPublished(quest.id)
    _check_window(quest, now)
    if (quest.mode == QuestMode.team.value) != (team_id is not None):
        raise WrongQuestMode(quest.id, quest.mode)
    if team_id is not None and not is_member(session, user_id=actor.id, team_id=team_id):
        raise Forbidden("claim for that team", "you are not a member of it.")
    event_guards.check_claim(session, actor=actor, quest_id=quest.id, team_id=team_id, now=now)
    if _live_claim_exists(session, quest.id, user_id=actor.id, team_id=team_id):
        raise AlreadyClaimed(quest.id, team_id)
    claim = Claim(quest_id=quest.id, user_id=actor.id, team_id=team_id,
                  status=ClaimStatus.taken.value, created_at=now)
    session.add(claim)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AlreadyClaimed(quest.id, team_id) from None
    return claim


def get_claim(session: Session, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise NotFound("claim", claim_id)
    return claim


def can_act_for_claim(session: Session, user: User, claim: Claim) -> bool:
    """The claimant, or any member of the team it was made for."""
    if claim.user_id == user.id:
        return True
    return claim.team_id is not None and is_member(session, user_id=user.id, team_id=claim.team_id)


def can_view_claim(session: Session, user: User, claim: Claim) -> bool:
    access = child_claim_access(session, user, claim)  # a child's: private to the class until released
    if access is not None:
        return access
    return user.is_organiser or can_act_for_claim(session, user, claim)


def _transition(session: Session, claim: Claim, *, wanted: ClaimStatus, to: ClaimStatus,
                **values) -> None:
    """Move a claim from `wanted` to `to` atomically (compare-and-set in one UPDATE)."""
    result = session.execute(
        update(Claim).where(Claim.id == claim.id, Claim.status == wanted.value)
        .values(status=to.value, **values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(claim)
        raise ClaimNotInState(claim.id, claim.status, wanted.value)
    session.refresh(claim)


def _record_members(session: Session, claim: Claim, actor: User, members: Sequence[int] | None) -> None:
    """Who took part in a team claim (credited when it is approved): the members named,
    or else the claimant and whoever submitted the evidence. All must be in the team."""
    chosen = list(dict.fromkeys(members)) if members else list(dict.fromkeys([claim.user_id, actor.id]))
    team_members = set(session.scalars(select(TeamMembership.user_id).where(TeamMembership.team_id == claim.team_id)))
    if not set(chosen) <= team_members:
        raise ValidationFailed({"members": ["Everyone who took part must be a member of the team."]})
    session.add_all(ClaimMember(claim_id=claim.id, user_id=user_id) for user_id in chosen)


def submit_evidence(session: Session, *, actor: User, claim: Claim, evidence: str,
                    members: Sequence[int] | None = None, now: datetime | None = None) -> Claim:
    """Send a claim for review. For a team claim, `members` names who took part."""
    if not can_act_for_claim(session, actor, claim):
        raise Forbidden("submit evidence for this claim", "it is not yours or your team's.")
    evidence = (evidence or "").strip()
    if not evidence:
        raise ValidationFailed({"evidence": ["Describe what you did, so a reviewer can check it."]})
    if len(evidence) > rules.EVIDENCE_MAX:
        raise ValidationFailed({"evidence": [f"Keep this to {rules.EVIDENCE_MAX} characters or fewer."]})
    now = now or utcnow()
    quest = claim.quest
    if quest.ends_at is not None and now >= quest.ends_at:
        raise QuestClosed(quest.id, quest.ends_at)
    if claim.team_id is not None:
        _record_members(session, claim, actor, members)
    _transition(session, claim, wanted=ClaimStatus.taken, to=ClaimStatus.submitted,
                evidence=evidence, submitted_at=now, evidence_visibility=PUBLIC)
    wordlist.hold_if_listed(session, claim, kind="evidence", owner_id=claim.user_id, texts=(evidence,), now=now)
    hold_evidence(session, actor=actor, claim=claim, now=now)  # a child's evidence waits for a teacher
    return claim


def claims_of(session: Session, user: User) -> list[Claim]:
    """The user's own claims and their teams' claims, newest first."""
    team_ids = team_ids_of(session, user.id)
    cond = Claim.user_id == user.id
    if team_ids:
        cond = or_(cond, Claim.team_id.in_(team_ids))
    return list(session.scalars(select(Claim).where(cond)
                                .options(joinedload(Claim.quest), joinedload(Claim.team))
                                .order_by(Claim.created_at.desc(), Claim.id.desc())))
