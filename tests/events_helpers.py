"""Building events for the tests, through the real services."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from events import services
from events.models import Event
from extensions import db
from tests.factories import make_quest, make_team, make_user
from timeutil import utcnow


def event_fields(**overrides) -> dict:
    now = utcnow()
    fields = dict(title="Easton Jam", description="Fix the ward in an afternoon.", place="Easton Community Centre",
                  lat=None, lon=None, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=2),
                  registration_opens_at=now - timedelta(days=2), registration_closes_at=now + timedelta(hours=1),
                  mode="team", min_team_size=1, max_team_size=4, freeze_at=None)
    fields.update(overrides)
    return fields


def make_event(organiser, *, hide_quests_until_start: bool = False, dynamic_scoring: bool = False,
               **overrides) -> Event:
    event = services.create_event(db.session, actor=organiser, hide_quests_until_start=hide_quests_until_start,
                                  dynamic_scoring=dynamic_scoring, **event_fields(**overrides))
    db.session.commit()
    return event


def add_quests(organiser, event: Event, count: int, **quest_fields):
    quests = []
    for n in range(count):
        quest = make_quest(organiser, title=f"Jam quest {n + 1}", mode=event.mode, points=100, **quest_fields)
        services.add_quest(db.session, actor=organiser, event=event, quest=quest)
        quests.append(quest)
    db.session.commit()
    return quests


def team_of(size: int, name: str):
    captain = make_user(name=f"{name} captain")
    members = tuple(make_user(name=f"{name} member {n}") for n in range(size - 1))
    return make_team(captain, name=name, members=members), captain


def enter(event: Event, team, captain):
    entry = services.register(db.session, actor=captain, event=event, team_id=team.id)
    db.session.commit()
    return entry


def set_times(event: Event, **times) -> None:
    """Move an event's clock (tests cannot move the ledger's): e.g. freeze it now."""
    db.session.execute(update(Event).where(Event.id == event.id).values(**times))
    db.session.commit()
    db.session.refresh(event)
