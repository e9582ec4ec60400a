"""The open tracker: one report, many people. Confirmations ("I see this too"),
subscriptions, organiser comments and merges of duplicates.

Like challenges/services.py, functions take the session and the actor, raise DomainError
subclasses, flush, and leave committing to the caller. Every public update they create is
handed to notifications.services.publish, which queues delivery until after the commit.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from challenges import geo, rules
from childsafe.policy import refuse_public
from challenges.models import (Confirmation, Delivery, Photo, Problem, ProblemStatus, ProblemUpdate, Quest,
                               Subscription, SubscriptionKind)
from errors import Conflict, Forbidden, ValidationFailed
from moderation import wordlist
from notifications.services import publish, remove_subscription
from timeutil import utcnow

MAX_MERGE_HOPS = 20


class AlreadyConfirmed(Conflict):
    code = "already_confirmed"

    def __init__(self, problem_id: int):
        super().__init__("You have already said you see this problem too.")
        self.problem_id = problem_id


class OwnProblem(Conflict):
    code = "own_problem"

    def __init__(self, problem_id: int):
        super().__init__("You reported this problem, so you already count as seeing it.")
        self.problem_id = problem_id


class MergeCycle(Conflict):
    code = "merge_cycle"

    def __init__(self, duplicate_id: int, survivor_id: int):
        super().__init__(f"Problem #{duplicate_id} cannot be merged into #{survivor_id}: "
                         "that would merge a problem into itself.")
        self.duplicate_id = duplicate_id
        self.survivor_id = survivor_id


def survivor_of(session: Session, problem: Problem) -> Problem:
    """The problem a merged one now lives on as (itself if never merged)."""
    seen = {problem.id}
    while problem.merged_into_id is not None:
        problem = session.get(Problem, problem.merged_into_id)
        if problem.id in seen or len(seen) > MAX_MERGE_HOPS:  # pragma: no cover - merges prevent cycles
            raise MergeCycle(problem.id, problem.id)
        seen.add(problem.id)
    return problem


def _bump(session: Session, problem_id: int, column, by: int) -> None:
    session.execute(update(Problem).where(Problem.id == problem_id)
                    .values({column: column + by}).execution_options(synchronize_session=False))


def _refresh_counts(session: Session, problem_id: int) -> None:
    """Recount a problem's confirmations and problem subscribers from their rows."""
    confirmations = select(func.count()).select_from(Confirmation).where(
        Confirmation.problem_id == problem_id).scalar_subquery()
    subscribers = select(func.count()).select_from(Subscription).where(
        Subscription.kind == SubscriptionKind.problem.value, Subscription.problem_id == problem_id).scalar_subquery()
    session.execute(update(Problem).where(Problem.id == problem_id)
                    .values(confirmations_count=confirmations, subscribers_count=subscribers)
                    .execution_options(synchronize_session=False))


def history_select(problem_id: int) -> Select:
    """A problem's public history (its updates), oldest first as its page lists them, with
    each author loaded in the same query (for db.paginate)."""
    return (select(ProblemUpdate).where(ProblemUpdate.problem_id == problem_id)
            .options(joinedload(ProblemUpdate.author)).order_by(ProblemUpdate.id))


# --- subscriptions -------------------------------------------------------------------------

def problem_subscription(session: Session, *, user_id: int, problem_id: int) -> Subscription | None:
    return session.scalar(select(Subscription).where(
        Subscription.kind == SubscriptionKind.problem.value, Subscription.user_id == user_id,
        Subscription.problem_id == problem_id))


def _check_delivery(delivery: str) -> None:
    if delivery not in {d.value for d in Delivery}:
        raise ValidationFailed({"delivery": ["Choose immediate, digest or in_app."]})


def subscribe(session: Session, *, actor: User, problem: Problem,
              delivery: str = Delivery.immediate.value) -> Subscription:
    """Follow a problem (its survivor, if merged). Following twice changes nothing."""
    _check_delivery(delivery)
    problem = survivor_of(session, problem)
    existing = problem_subscription(session, user_id=actor.id, problem_id=problem.id)
    if existing is not None:
        return existing
    subscription = Subscription(user_id=actor.id, kind=SubscriptionKind.problem.value,
                                problem_id=problem.id, delivery=delivery)
    session.add(subscription)
    session.flush()
    _bump(session, problem.id, Problem.subscribers_count, 1)
    return subscription


def unsubscribe(session: Session, *, actor: User, problem: Problem) -> bool:
    """Stop following a problem; emails it earned that have not gone out are cancelled."""
    subscription = problem_subscription(session, user_id=actor.id, problem_id=survivor_of(session, problem).id)
    if subscription is None:
        return False
    return remove_subscription(session, subscription_id=subscription.id, user_id=actor.id)


def subscribe_area(session: Session, *, actor: User, lat=None, lon=None, radius_m=None,
                   bbox: tuple[float, float, float, float] | None = None,
                   delivery: str = Delivery.immediate.value) -> Subscription:
    """Hear about new problems in a circle (lat, lon, radius_m) or a box
    (min_lon, min_lat, max_lon, max_lat), e.g. a ward."""
    refuse_public(actor, "follow an area")
    _check_delivery(delivery)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        fields = {**rules.coordinate_problems(min_lat, min_lon), **rules.coordinate_problems(max_lat, max_lon)}
        if not fields and (min_lat >= max_lat or min_lon >= max_lon):
            fields = {"bbox": ["The box's south-west corner must be south and west of its north-east corner."]}
        if fields:
            raise ValidationFailed({"bbox": [m for ms in fields.values() for m in ms]})
        subscription = Subscription(user_id=actor.id, kind=SubscriptionKind.area.value, delivery=delivery,
                                    min_lat=min_lat, min_lon=min_lon, max_lat=max_lat, max_lon=max_lon)
    else:
        try:
            geo.check_circle(lat, lon, radius_m)
        except geo.BadArea as error:
            raise ValidationFailed({error.field: [error.message]}) from None
        subscription = Subscription(user_id=actor.id, kind=SubscriptionKind.area.value, delivery=delivery,
                                    centre_lat=lat, centre_lon=lon, radius_m=radius_m)
    session.add(subscription)
    session.flush()
    return subscription


def subscribe_category(session: Session, *, actor: User, category: str, categories,
                       delivery: str = Delivery.immediate.value) -> Subscription:
    refuse_public(actor, "follow a category")
    _check_delivery(delivery)
    if category not in categories:
        raise ValidationFailed({"category": [f"Choose one of: {', '.join(categories)}."]})
    existing = session.scalar(select(Subscription).where(
        Subscription.kind == SubscriptionKind.category.value, Subscription.user_id == actor.id,
        Subscription.category == category))
    if existing is not None:
        return existing
    subscription = Subscription(user_id=actor.id, kind=SubscriptionKind.category.value,
                                category=category, delivery=delivery)
    session.add(subscription)
    session.flush()
    return subscription


# --- confirmations -------------------------------------------------------------------------

def has_confirmed(session: Session, *, user_id: int, problem_id: int) -> bool:
    return session.scalar(select(Confirmation.id).where(
        Confirmation.problem_id == problem_id, Confirmation.user_id == user_id)) is not None


def confirm(session: Session, *, actor: User, problem: Problem, now: datetime | None = None) -> Problem:
    """'I see this too': counts towards the problem's priority and follows it. Returns the
    problem confirmed (the survivor, if the one given was merged)."""
    problem = survivor_of(session, problem)
    if problem.reporter_id == actor.id:
        raise OwnProblem(problem.id)
    if has_confirmed(session, user_id=actor.id, problem_id=problem.id):
        raise AlreadyConfirmed(problem.id)
    session.add(Confirmation(problem_id=problem.id, user_id=actor.id, created_at=now or utcnow()))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AlreadyConfirmed(problem.id) from None
    _bump(session, problem.id, Problem.confirmations_count, 1)
    subscribe(session, actor=actor, problem=problem)
    return problem


# --- updates -------------------------------------------------------------------------------

def comment(session: Session, *, actor: User, problem: Problem, body: str,
            now: datetime | None = None) -> ProblemUpdate:
    """An organiser's dated public note on a problem, delivered to its subscribers."""
    refuse_public(actor, "post a public update")
    if not actor.is_organiser:
        raise Forbidden("comment on problems", "only organisers post updates for now.")
    body = (body or "").strip()
    if not body:
        raise ValidationFailed({"body": ["Write the update."]})
    if len(body) > rules.DESCRIPTION_MAX:
        raise ValidationFailed({"body": [f"Keep this to {rules.DESCRIPTION_MAX} characters or fewer."]})
    problem = survivor_of(session, problem)
    now = now or utcnow()
    entry = ProblemUpdate(problem_id=problem.id, author_id=actor.id, kind="comment", body=body, created_at=now)
    problem.updated_at = now
    session.add(entry)
    session.flush()
    if not wordlist.hold_if_listed(session, entry, kind="update", owner_id=actor.id, texts=(body,), now=now):
        publish(session, entry)  # a held comment is announced when a moderator releases it
    return entry


# --- merges --------------------------------------------------------------------------------

def merge(session: Session, *, actor: User, duplicate: Problem, into: Problem,
          now: datetime | None = None) -> Problem:
    """Merge a duplicate into another problem. Its confirmations, subscribers, photos,
    history and quests move to the survivor (nobody is subscribed or counted twice); its
    reporter counts as confirming the survivor; it then points to the survivor. Problems
    merged into the duplicate earlier point straight at the survivor, so chains never form.
    Returns the survivor."""
    if not actor.is_organiser:
        raise Forbidden("merge problems", "only organisers merge duplicates.")
    survivor = survivor_of(session, into)
    if duplicate.merged_into_id is not None:
        raise Conflict(f"Problem #{duplicate.id} was already merged into #{duplicate.merged_into_id}.")
    if survivor.id == duplicate.id:
        raise MergeCycle(duplicate.id, into.id)
    now = now or utcnow()
    _move_confirmations(session, duplicate, survivor)
    _move_subscriptions(session, duplicate.id, survivor.id)
    for model in (Photo, ProblemUpdate, Quest):
        session.execute(update(model).where(model.problem_id == duplicate.id)
                        .values(problem_id=survivor.id).execution_options(synchronize_session=False))
    session.execute(update(Problem).where(Problem.merged_into_id == duplicate.id)
                    .values(merged_into_id=survivor.id).execution_options(synchronize_session=False))
    duplicate.merged_into_id = survivor.id
    duplicate.status = ProblemStatus.closed.value
    duplicate.updated_at = survivor.updated_at = now
    note = f"Problem #{duplicate.id} ({duplicate.title}) was the same problem and has been merged into this one."
    entry = ProblemUpdate(problem_id=survivor.id, author_id=actor.id, kind="merged", body=note, created_at=now)
    session.add(entry)
    session.flush()
    for problem_id in (duplicate.id, survivor.id):
        _refresh_counts(session, problem_id)
    session.expire(survivor)
    session.expire(duplicate)
    publish(session, entry)
    return survivor


def _move_confirmations(session: Session, duplicate: Problem, survivor: Problem) -> None:
    """Confirmations move unless the person already confirmed (or reported) the survivor;
    the duplicate's reporter becomes a confirmer of the survivor."""
    already = select(Confirmation.user_id).where(Confirmation.problem_id == survivor.id)
    session.execute(update(Confirmation).where(
        Confirmation.problem_id == duplicate.id, Confirmation.user_id.not_in(already),
        Confirmation.user_id != survivor.reporter_id,
    ).values(problem_id=survivor.id).execution_options(synchronize_session=False))
    session.execute(delete(Confirmation).where(Confirmation.problem_id == duplicate.id))
    if duplicate.reporter_id != survivor.reporter_id and not has_confirmed(
            session, user_id=duplicate.reporter_id, problem_id=survivor.id):
        session.add(Confirmation(problem_id=survivor.id, user_id=duplicate.reporter_id))
        session.flush()


def _move_subscriptions(session: Session, duplicate_id: int, survivor_id: int) -> None:
    already = select(Subscription.user_id).where(
        Subscription.kind == SubscriptionKind.problem.value, Subscription.problem_id == survivor_id)
    session.execute(update(Subscription).where(
        Subscription.kind == SubscriptionKind.problem.value, Subscription.problem_id == duplicate_id,
        Subscription.user_id.not_in(already),
    ).values(problem_id=survivor_id).execution_options(synchronize_session=False))
    session.execute(delete(Subscription).where(
        Subscription.kind == SubscriptionKind.problem.value, Subscription.problem_id == duplicate_id))


def problems_by_priority(stmt):
    """Most affected first: confirmations plus followers, then the oldest report."""
    return stmt.order_by(None).order_by((Problem.confirmations_count + Problem.subscribers_count).desc(),
                                        Problem.created_at.asc(), Problem.id.asc())


