"""A person's in-app notifications, live: the unread count and the newest few.

The state goes on the topic "user:<id>:notifications", served only to that person
(GET /notifications/stream reads the id from the login, never from the URL). It is
published after the commit that creates in-app notifications (services.fan_out) or reads
them (mark_read, mark_all_read), only to people with a stream open (live.publish's
only_if_watched): one fan-out can reach thousands of people, few of them online. Those
states are read together, in two queries whatever their number.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from flask import current_app, has_request_context, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

import live
from challenges.models import ProblemUpdate
from moderation.visibility import public_updates
from notifications.models import Channel, Notification

LATEST = 5
IN_LIST_MAX = 1000  # more people than this: select them with a subquery instead


def topic(user_id: int) -> str:
    return f"user:{user_id}:notifications"


def _problem_path(problem_id: int) -> str:
    """A path, also outside a request (the fan-out job runs in a worker)."""
    if has_request_context():
        return url_for("challenges.problem", problem_id=problem_id)
    adapter = current_app.url_map.bind(current_app.config.get("SERVER_NAME") or "localhost",
                                       script_name=current_app.config.get("APPLICATION_ROOT") or "/")
    return adapter.build("challenges.problem", {"problem_id": problem_id})


def states(session: Session, user_ids: Iterable[int], *, among: Select | None = None) -> dict[int, dict]:
    """{user_id: {"unread": n, "latest": [...]}} for each person; the newest LATEST in-app
    notifications, each with its title, the problem's path, whether it is unread and when.
    `among`, a SELECT of those user ids, replaces a long IN (...) list in the SQL."""
    from childsafe.notify import delivered_in_app
    from notifications.services import describe_update

    ids = sorted(set(user_ids))
    result = {user_id: {"unread": 0, "latest": []} for user_id in ids}
    if not ids:
        return result
    mine = (Notification.user_id.in_(among if among is not None else ids),
            Notification.channel == Channel.in_app.value,
            delivered_in_app(),  # a child's notification held for quiet hours is not pushed either
            Notification.update_id.in_(select(ProblemUpdate.id).where(public_updates())))  # nor hidden ones
    for user_id, unread in session.execute(select(Notification.user_id, func.count()).where(
            *mine, Notification.read_at.is_(None)).group_by(Notification.user_id)):
        result[user_id]["unread"] = unread
    rank = func.row_number().over(partition_by=Notification.user_id, order_by=Notification.id.desc())
    ranked = select(Notification.id, rank.label("n")).where(*mine).subquery()
    newest = session.scalars(
        select(Notification).where(Notification.id.in_(select(ranked.c.id).where(ranked.c.n <= LATEST)))
        .options(joinedload(Notification.update).joinedload(ProblemUpdate.problem))
        .order_by(Notification.id.desc()))
    for row in newest:
        result[row.user_id]["latest"].append({
            "title": describe_update(row.update, row.update.problem),
            "url": _problem_path(row.update.problem_id),
            "unread": row.read_at is None,
            "at": row.created_at.isoformat(),
        })
    return result


def snapshot(user_id: int) -> Callable[[Session], dict]:
    return lambda session: states(session, [user_id])[user_id]


class _Batch:
    """Reads the states of the people being published to (those with a stream open) in one
    go, the first time one of them is built."""

    def __init__(self, user_ids: Iterable[int], among: Select | None = None):
        self.user_ids = tuple(user_ids)
        self.among = among
        self._states: dict[int, dict] | None = None

    def build(self, user_id: int, session: Session) -> dict:
        if self._states is None:
            watching = live.hub().watched(topic(u) for u in self.user_ids)
            ids = [u for u in self.user_ids if topic(u) in watching]
            self._states = states(session, ids, among=self.among if len(ids) > IN_LIST_MAX else None)
        if user_id not in self._states:  # began watching a moment ago
            self._states.update(states(session, [user_id]))
        return self._states[user_id]


def announce(session: Session, user_ids: Iterable[int], *, among: Select | None = None) -> None:
    """Publish these people's notification states once the caller's transaction commits, to
    those who have a stream open (the rest see the state when they next load a page)."""
    batch = _Batch(user_ids, among)
    for user_id in batch.user_ids:
        live.publish(session, topic(user_id), "state", partial(batch.build, user_id), only_if_watched=True)


def announce_update(session: Session, update_id: int) -> None:
    """Everyone with an in-app notification of this update, however many."""
    recipients = select(Notification.user_id).where(Notification.update_id == update_id,
                                                    Notification.channel == Channel.in_app.value)
    announce(session, session.scalars(recipients), among=recipients)
