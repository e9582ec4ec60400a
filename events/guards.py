"""The small checks other packages call for events: which quests are still secret, who may
take an event's quests, whether a registered team is full. Each costs one indexed query
when nothing involves an event.

Depends only on models, so challenges/ and accounts/ can import it without cycles.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from accounts.models import TeamMembership
from errors import Conflict, DomainError
from events.models import Event, EventEntry, EventMode, EventOrganiser, EventQuest
from timeutil import local_text, utcnow


def _when(moment: datetime) -> str:
    return local_text(moment)


class EventNotRunning(Conflict):
    code = "event_not_running"

    def __init__(self, event: Event, now: datetime):
        if now < event.starts_at:
            message = f"This quest is part of \u201c{event.title}\u201d, which starts at {_when(event.starts_at)}."
        else:
            message = f"This quest was part of \u201c{event.title}\u201d, which has ended."
        super().__init__(message)
        self.event_id = event.id


class NotRegistered(DomainError):
    status = 403
    code = "not_registered"

    def __init__(self, event: Event, team_id: int | None):
        who = "Your team is" if team_id else "You are"
        super().__init__(f"This quest is part of \u201c{event.title}\u201d. {who} not registered for it, "
                         "so it cannot be taken on.")
        self.event_id = event.id
        self.team_id = team_id


class TeamFull(Conflict):
    code = "team_full"

    def __init__(self, team_id: int, event: Event):
        super().__init__(f"This team is registered for \u201c{event.title}\u201d, which takes teams of at most "
                         f"{event.max_team_size}; the team is full.")
        self.team_id = team_id
        self.event_id = event.id
        self.max_team_size = event.max_team_size


def hidden_quest_ids(now: datetime | None = None) -> Select:
    """Ids of quests that must not be shown yet: in events that hide their quests until the
    start, before it. Lists use `Quest.id.not_in(hidden_quest_ids(now))`."""
    now = now or utcnow()
    return (select(EventQuest.quest_id).join(Event, Event.id == EventQuest.event_id)
            .where(Event.hide_quests_until_start.is_(True), Event.starts_at > now))


def is_event_organiser(session: Session, user, event: Event) -> bool:
    """The event's creator, its extra organisers, and admins."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_admin or event.created_by_id == user.id:
        return True
    return session.scalar(select(EventOrganiser.id).where(EventOrganiser.event_id == event.id,
                                                          EventOrganiser.user_id == user.id)) is not None


def event_of_quest(session: Session, quest_id: int) -> Event | None:
    return session.scalar(select(Event).join(EventQuest, EventQuest.event_id == Event.id)
                          .where(EventQuest.quest_id == quest_id))


def quest_hidden(session: Session, quest_id: int, user, now: datetime | None = None) -> bool:
    """True when the quest is still secret to this viewer (everyone but the event's organisers)."""
    now = now or utcnow()
    event = event_of_quest(session, quest_id)
    if event is None or not event.hide_quests_until_start or now >= event.starts_at:
        return False
    return not is_event_organiser(session, user, event)


def check_claim(session: Session, *, actor, quest_id: int, team_id: int | None, now: datetime) -> None:
    """An event's quests are taken only while it runs, by its registered entries."""
    event = event_of_quest(session, quest_id)
    if event is None:
        return
    if not event.starts_at <= now < event.ends_at:
        raise EventNotRunning(event, now)
    entrant = (EventEntry.team_id == team_id if event.mode == EventMode.team.value and team_id is not None
               else EventEntry.user_id == actor.id)
    if session.scalar(select(EventEntry.id).where(EventEntry.event_id == event.id, entrant)) is None:
        raise NotRegistered(event, team_id)


def check_team_join(session: Session, *, team_id: int, adding: int = 1, now: datetime | None = None) -> None:
    """A team registered for an event that has not ended cannot grow past its largest size
    (`adding`: how many are about to join at once, e.g. a class's new children)."""
    now = now or utcnow()
    event = session.scalar(select(Event).join(EventEntry, EventEntry.event_id == Event.id)
                           .where(EventEntry.team_id == team_id, Event.ends_at > now)
                           .order_by(Event.max_team_size).limit(1))
    if event is None:
        return
    size = session.scalar(select(func.count()).select_from(TeamMembership).where(TeamMembership.team_id == team_id))
    if size + adding > event.max_team_size:
        raise TeamFull(team_id, event)
