"""Events in the API: the list, one event's public face, its entries, its scoreboard (frozen
for the public during a freeze, as on the page) and registering for it; and organising, as
the event pages do: creating an event (organisers), changing it (its organisers: every
field of the edit page, the scoreboard freeze included), putting quests in play or taking
them out, and adding co-organisers, each through the events.services function the page calls.

An event's quests stay secret until the start when it hides them (only its organisers see
them earlier); solo entrants who are children or hidden from the boards are never listed,
and a team with a child in it is shown by its name only (events.services.public_members).
"""
from __future__ import annotations

from flask import url_for

from accounts.models import User
from api import bp
from api.auth import optional_bearer_user, token_required
from api.parsing import (MAX_ID, boolean, choice_arg, identifier, json_body, number, page_args, paginated,
                         paginated_list, read_args, read_fields, text, timestamp, whole_number)
from api.routes import created
from api.serializers import quest_json
from challenges.models import Quest
from errors import NotFound, ValidationFailed
from events import services as events
from events.models import Event, EventEntry, EventMode
from extensions import db
from timeutil import isoformat, utcnow

ID = f"int(max={MAX_ID})"


def event_json(event: Event, *, now) -> dict:
    return {
        "id": event.id, "title": event.title, "description": event.description, "place": event.place,
        "lat": event.lat, "lon": event.lon, "mode": event.mode, "phase": event.phase(now),
        "starts_at": isoformat(event.starts_at), "ends_at": isoformat(event.ends_at),
        "registration_opens_at": isoformat(event.registration_opens_at),
        "registration_closes_at": isoformat(event.registration_closes_at),
        "registration_open": event.registration_opens_at <= now < event.registration_closes_at,
        "freeze_at": isoformat(event.freeze_at), "min_team_size": event.min_team_size,
        "max_team_size": event.max_team_size, "hide_quests_until_start": event.hide_quests_until_start,
        "dynamic_scoring": event.dynamic_scoring, "finalised": event.finalised_at is not None,
        "url": url_for("api.event", event_id=event.id),
    }


def entry_json(entry: EventEntry, members: dict[int, list[str]]) -> dict:
    return {"id": entry.id, "team_id": entry.team_id, "name": events.board_name(entry),  # a child: "a pupil"
            "members": members.get(entry.id, []), "registered_at": isoformat(entry.registered_at)}


@bp.get("/events")
def events_list():
    """Events, filtered by `phase` (running, upcoming, past) and `mode` (solo, team).

    Running ones end soonest first, upcoming ones start soonest first, past ones latest first;
    with no phase, the newest start first."""
    args = read_args(phase=choice_arg(events.PHASES), mode=choice_arg(m.value for m in EventMode), **page_args())
    now = utcnow()
    return paginated(events.events_select(phase=args["phase"], mode=args["mode"], now=now),
                     lambda event: event_json(event, now=now), args)


@bp.get(f"/events/<{ID}:event_id>")
def event(event_id: int):
    """An event's public fields, its quests (null while they are secret), entries count and links."""
    return event_detail(events.get_event(db.session, event_id), optional_bearer_user())


def event_detail(found: Event, viewer: User | None) -> dict:
    now = utcnow()
    quests = (events.event_quests(db.session, found) if events.quests_visible(db.session, found, viewer, now)
              else None)
    mine = events.entry_of(db.session, found, viewer)
    return {**event_json(found, now=now),
            "quests": None if quests is None else [{"id": q.id, "title": q.title, "points": q.points,
                                                    "url": url_for("api.quest", quest_id=q.id)} for q in quests],
            "entries_count": len(events.listed_entries(db.session, found, viewer)),
            "my_entry_id": mine.id if mine is not None else None,
            "entries": url_for("api.event_entries", event_id=found.id),
            "scoreboard": url_for("api.event_scoreboard", event_id=found.id)}


@bp.get(f"/events/<{ID}:event_id>/entries")
def event_entries(event_id: int):
    """The entries the event's page lists, in registration order, with the public names of team members."""
    args = read_args(**page_args())
    found = events.get_event(db.session, event_id)
    entries = events.listed_entries(db.session, found, optional_bearer_user())
    members = events.public_members(db.session, entries)
    return paginated_list(entries, lambda entry: entry_json(entry, members), args)


@bp.get(f"/events/<{ID}:event_id>/scoreboard")
def event_scoreboard(event_id: int):
    """The event's scoreboard: frozen for the public during a freeze, live for its organisers."""
    args = read_args(**page_args())
    board = events.board_state(events.viewer_board(db.session, events.get_event(db.session, event_id),
                                                   optional_bearer_user()))
    rows = board.pop("rows")
    return {**board, **paginated_list(rows, lambda row: row, args)}


@bp.post(f"/events/<{ID}:event_id>/registrations")
@token_required
def register_for_event(actor: User, event_id: int):
    """Register for an event: a team {"team_id"} by its captain, or yourself (solo events).

    The event's organisers may enter any team or person ({"user_id"}), also outside the
    registration window, until the end."""
    values = read_fields(json_body(optional=True), {"team_id": identifier, "user_id": identifier})
    found = events.get_event(db.session, event_id)
    entry = events.register(db.session, actor=actor, event=found, team_id=values["team_id"],
                            user_id=values["user_id"])
    body = {**entry_json(entry, {}), "event_id": found.id}
    db.session.commit()
    return created(body, url_for("api.event_entries", event_id=found.id))


# --- organising --------------------------------------------------------------------------------

EVENT_FIELDS = {"title": text, "description": text, "place": text, "lat": number, "lon": number,
                "starts_at": timestamp, "ends_at": timestamp, "registration_opens_at": timestamp,
                "registration_closes_at": timestamp, "mode": text, "min_team_size": whole_number,
                "max_team_size": whole_number, "freeze_at": timestamp, "hide_quests_until_start": boolean,
                "dynamic_scoring": boolean}
FLAGS = ("hide_quests_until_start", "dynamic_scoring")


@bp.post("/events")
@token_required
def create_event(actor: User):
    """Organisers: a new event, with the new-event page's fields (the rules in events/rules.py)."""
    body = json_body()
    events.check_may_create(actor)  # before the fields' checks, as the page refuses before its form
    values = read_fields(body, EVENT_FIELDS)
    found = events.create_event(db.session, actor=actor, **{k: v for k, v in values.items() if k not in FLAGS},
                                **{flag: bool(values[flag]) for flag in FLAGS})
    db.session.commit()
    return created(event_detail(found, actor), url_for("api.event", event_id=found.id))


@bp.patch(f"/events/<{ID}:event_id>")
@token_required
def change_event(actor: User, event_id: int):
    """The event's organisers: change the fields sent (null clears an optional one: lat, lon,
    freeze_at); the rest keep their values. The edit page's rules apply to the whole result."""
    body = json_body()  # a body that cannot be read is refused first, as on every route
    found = events.get_event(db.session, event_id)
    events.require_organiser(db.session, actor, found, "change this event")
    values = read_fields(body, EVENT_FIELDS)
    merged = {name: values[name] if name in body else getattr(found, name) for name in EVENT_FIELDS}
    events.update_event(db.session, actor=actor, event=found, **merged)
    db.session.commit()
    return event_detail(found, actor)


def _quest_in_body(body: dict) -> Quest:
    values = read_fields(body, {"quest_id": identifier}, required=("quest_id",))
    quest = db.session.get(Quest, values["quest_id"])
    if quest is None:
        raise ValidationFailed({"quest_id": ["There is no quest with that number."]})
    return quest


@bp.post(f"/events/<{ID}:event_id>/quests")
@token_required
def add_event_quest(actor: User, event_id: int):
    """The event's organisers: put a published quest of the event's mode in play {"quest_id"} (until the end)."""
    body = json_body()
    found = events.get_event(db.session, event_id)
    events.require_organiser(db.session, actor, found, "choose this event's quests")
    quest = _quest_in_body(body)
    events.add_quest(db.session, actor=actor, event=found, quest=quest)
    added = {"event_id": found.id, "quest": quest_json(quest)}
    db.session.commit()
    return created(added, url_for("api.event", event_id=found.id))


@bp.delete(f"/events/<{ID}:event_id>/quests/<{ID}:quest_id>")
@token_required
def remove_event_quest(actor: User, event_id: int, quest_id: int):
    """The event's organisers: take a quest out of play (only before the start)."""
    found = events.get_event(db.session, event_id)
    events.require_organiser(db.session, actor, found, "choose this event's quests")
    quest = db.session.get(Quest, quest_id)
    if quest is None:
        raise NotFound("quest", quest_id)
    events.remove_quest(db.session, actor=actor, event=found, quest=quest)
    db.session.commit()
    return {"event_id": found.id, "quest_id": quest_id, "in_event": False}


@bp.post(f"/events/<{ID}:event_id>/organisers")
@token_required
def add_event_organiser(actor: User, event_id: int):
    """The event's organisers: add a co-organiser {"user_id"} (someone with an organiser account)."""
    body = json_body()
    found = events.get_event(db.session, event_id)
    events.require_organiser(db.session, actor, found, "add organisers to this event")
    values = read_fields(body, {"user_id": identifier}, required=("user_id",))
    person = db.session.get(User, values["user_id"])
    if person is None:
        raise ValidationFailed({"user_id": ["There is no such person."]})
    events.add_organiser(db.session, actor=actor, event=found, user=person)
    db.session.commit()
    return created({"event_id": found.id, "user_id": person.id, "organiser": True},
                   url_for("api.event", event_id=found.id))
