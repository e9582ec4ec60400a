"""Anti-cheating services: the fix-cycle check before an approval pays, and approval-burst
alerts after it. Called from challenges.reviews; the Organise page lists open alerts."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from accounts.models import TeamMembership, User
from accounts.services import team_ids_of
from challenges.models import RESOLVED_STATES, Claim, ClaimStatus, ProblemUpdate, Quest, Review
from errors import Conflict, Forbidden, NotFound
from integrity import rules
from integrity.models import IntegrityAlert, IntegrityAlertClaim
from timeutil import utcnow

COUNTED = (ClaimStatus.approved.value, ClaimStatus.reversed.value)


class AlertAlreadyReviewed(Conflict):
    code = "alert_already_reviewed"

    def __init__(self, alert_id: int):
        super().__init__("Another organiser has already marked this alert reviewed.")
        self.alert_id = alert_id


# --- one payout per fix cycle --------------------------------------------------------------

def last_paid_fix_at(session: Session, *, problem_id: int, except_claim: int) -> datetime | None:
    """When a claim on this problem's quests was last approved with points."""
    return session.scalar(select(func.max(Claim.decided_at)).join(Quest, Quest.id == Claim.quest_id).where(
        Quest.problem_id == problem_id, Claim.id != except_claim, Claim.status == ClaimStatus.approved.value,
        Claim.unpaid_reason.is_(None)))


def last_reopened_at(session: Session, *, problem_id: int) -> datetime | None:
    """When the problem last went from fixed or closed back to an unresolved state."""
    return session.scalar(select(func.max(ProblemUpdate.created_at)).where(
        ProblemUpdate.problem_id == problem_id, ProblemUpdate.kind == "status",
        ProblemUpdate.old_status.in_(RESOLVED_STATES), ProblemUpdate.new_status.not_in(RESOLVED_STATES)))


def fix_cycle_refusal(session: Session, claim: Claim, *, now: datetime, cooldown_days: int) -> str | None:
    """Why approving this claim pays nothing (its problem was fixed and paid for, reopened,
    and is being re-fixed within the cool-down), or None when it pays as usual."""
    problem_id = claim.quest.problem_id
    if problem_id is None or cooldown_days <= 0:
        return None
    paid_at = last_paid_fix_at(session, problem_id=problem_id, except_claim=claim.id)
    if paid_at is None:
        return None
    cooldown = timedelta(days=cooldown_days)
    if rules.repeat_fix_pays(last_paid_fix_at=paid_at, reopened_at=last_reopened_at(session, problem_id=problem_id),
                             now=now, cooldown=cooldown):
        return None
    return rules.unpaid_reason(paid_at, cooldown)


# --- approval bursts -----------------------------------------------------------------------

def _approvals(session: Session, condition, since: datetime) -> list[tuple[datetime, int]]:
    """(review time, claim id) of approving reviews matching `condition` since `since`."""
    rows = session.execute(select(Review.created_at, Review.claim_id).join(Claim, Claim.id == Review.claim_id).where(
        Review.decision == "approve", Claim.status.in_(COUNTED), Review.created_at > since, condition)
        .order_by(Review.created_at, Review.claim_id)).all()
    return [(at, claim_id) for at, claim_id in rows]


def _members(team_id: int):
    return select(TeamMembership.user_id).where(TeamMembership.team_id == team_id)


def _since(session: Session, key: str, start: datetime) -> datetime:
    """A burst an organiser has reviewed is not raised again for the same approvals."""
    reviewed = session.scalar(select(func.max(IntegrityAlert.reviewed_at)).where(IntegrityAlert.key == key))
    return max(start, reviewed) if reviewed is not None else start


def _raise(session: Session, *, key: str, fields: dict, approvals: list[tuple[datetime, int]],
           now: datetime) -> IntegrityAlert:
    """Open the alert for this burst, or add the new claims to the one already open."""
    alert = session.scalar(select(IntegrityAlert).where(IntegrityAlert.key == key,
                                                        IntegrityAlert.reviewed_at.is_(None)))
    if alert is None:
        alert = IntegrityAlert(key=key, created_at=now, approvals=0, **fields)
        session.add(alert)
        session.flush()
    known = set(session.scalars(select(IntegrityAlertClaim.claim_id).where(IntegrityAlertClaim.alert_id == alert.id)))
    for claim_id in sorted({claim_id for _, claim_id in approvals} - known):
        session.add(IntegrityAlertClaim(alert_id=alert.id, claim_id=claim_id))
    alert.approvals = max(alert.approvals, len(approvals))
    session.flush()
    return alert


def check_approval(session: Session, *, claim: Claim, reviewer_id: int, now: datetime | None = None,
                   limit: int = rules.DEFAULT_BURST_LIMIT, hours: int = rules.DEFAULT_BURST_HOURS,
                   ) -> list[IntegrityAlert]:
    """After `reviewer_id` approved `claim`: has this reviewer approved this claimant, or
    have members of their teams approved each other's members, more than `limit` times in
    the last `hours`? Each such burst opens (or grows) an alert for organisers."""
    now = now or utcnow()
    window = timedelta(hours=hours)
    start = now - window
    claimant_id = claim.user_id
    alerts = []
    key = f"pair:{reviewer_id}:{claimant_id}"
    pair = _approvals(session, and_(Review.reviewer_id == reviewer_id, Claim.user_id == claimant_id),
                      _since(session, key, start))
    if rules.is_burst([at for at, _ in pair], now=now, window=window, limit=limit):
        alerts.append(_raise(session, key=key, approvals=pair, now=now,
                             fields={"kind": "pair", "reviewer_id": reviewer_id, "claimant_id": claimant_id}))
    claimant_teams = team_ids_of(session, claimant_id) | ({claim.team_id} if claim.team_id else set())
    pairs = {tuple(sorted((a, b))) for a in team_ids_of(session, reviewer_id) for b in claimant_teams if a != b}
    for team_a, team_b in sorted(pairs):
        key = f"teams:{team_a}:{team_b}"
        between = or_(and_(Review.reviewer_id.in_(_members(team_a)), Claim.user_id.in_(_members(team_b))),
                      and_(Review.reviewer_id.in_(_members(team_b)), Claim.user_id.in_(_members(team_a))))
        approvals = _approvals(session, between, _since(session, key, start))
        if rules.is_burst([at for at, _ in approvals], now=now, window=window, limit=limit):
            alerts.append(_raise(session, key=key, approvals=approvals, now=now,
                                 fields={"kind": "teams", "team_a_id": team_a, "team_b_id": team_b}))
    return alerts


def open_alerts(session: Session) -> list[IntegrityAlert]:
    """Alerts no organiser has reviewed yet, newest first, with their claims."""
    return list(session.scalars(select(IntegrityAlert).where(IntegrityAlert.reviewed_at.is_(None))
                                .options(selectinload(IntegrityAlert.claims), selectinload(IntegrityAlert.reviewer),
                                         selectinload(IntegrityAlert.claimant), selectinload(IntegrityAlert.team_a),
                                         selectinload(IntegrityAlert.team_b))
                                .order_by(IntegrityAlert.created_at.desc(), IntegrityAlert.id.desc())))


def is_involved(session: Session, user: User, alert: IntegrityAlert, team_ids: set[int] | None = None) -> bool:
    """The people an alert is about (or members of its teams) do not clear it themselves.
    `team_ids`: the user's teams, when the caller already has them (a list of alerts)."""
    if user.id in (alert.reviewer_id, alert.claimant_id):
        return True
    teams = {alert.team_a_id, alert.team_b_id} - {None}
    return bool(teams & (team_ids if team_ids is not None else team_ids_of(session, user.id)))


def get_alert(session: Session, alert_id: int) -> IntegrityAlert:
    alert = session.get(IntegrityAlert, alert_id)
    if alert is None:
        raise NotFound("integrity alert", alert_id)
    return alert


def mark_reviewed(session: Session, *, actor: User, alert: IntegrityAlert,
                  now: datetime | None = None) -> IntegrityAlert:
    if not actor.is_organiser:
        raise Forbidden("review integrity alerts", "they are for organisers.")
    if is_involved(session, actor, alert):
        raise Forbidden("mark this alert reviewed", "it is about you or your team; another organiser reviews it.")
    if alert.reviewed_at is not None:
        raise AlertAlreadyReviewed(alert.id)
    alert.reviewed_at = now or utcnow()
    alert.reviewed_by_id = actor.id
    session.flush()
    return alert
