"""Events in the API: the list, one event's public face, its entries, its scoreboard (frozen
for the public during a freeze, as on the page) and registering for it.

An event's quests stay secret until the start when it hides them (only its organisers see
them earlier); solo entrants who are children or hidden from the boards are never listed,
and a team with a child in it is shown by its name only (events.services.public_members).
"""
from __future__ import annotations

from flask import url_for

from accounts.models import User
from api import bp
from api.auth import optional_bearer_user, token_required
from api.parsing import (MAX_ID, choice_arg, identifier, json_body, page_args, paginated, paginated_list, read_args,
                         read_fields)
from api.routes import created
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
    return {"id": entry.id, "team_id": entry.team_id, "name": events.entry_name(entry),
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
    found, viewer, now = events.get_event(db.session, event_id), optional_bearer_user(), utcnow()
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
