"""Events: creating them, choosing their quests, registering entries, the scoreboard (live,
frozen and final), publishing it live, and revealing the results.

Services take the session and the acting user explicitly, raise DomainError subclasses and
flush; views and CLI commands commit.

The scoreboard counts what the ledger says: the award, rescore and reversal rows of claims
that registered entries made on the event's quests, written while the event ran
([starts_at, ends_at); see scoring.leaderboards.EventScope). More points rank first; on
equal points, whoever reached the score first (the lower id of their latest award row;
unlike the general leaderboards, a later rescore of a dynamic quest does not count as
reaching it later).
A claim approved after the end does not count: results are final at the end.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Select, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

import live
from accounts.models import Team, TeamMembership, User
from challenges.models import Claim, Quest, QuestStatus
from childsafe.policy import is_teacher_of
from errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from events import rules
from events.guards import is_event_organiser
from events.models import Event, EventEntry, EventMode, EventOrganiser, EventQuest
from scoring import badges
from scoring.leaderboards import SCOPE_KINDS
from scoring.models import LedgerEntry
from timeutil import as_utc, isoformat, local_text, utcnow

FINISHER_BADGE = "jam-finisher"
PODIUM_BADGE = "jam-podium"
PODIUM_PLACES = 3


def public_topic(event_id: int) -> str:
    return f"event:{event_id}:scoreboard"


def organiser_topic(event_id: int) -> str:
    return f"event:{event_id}:scoreboard-live"


# --- errors ---------------------------------------------------------------------------------

class RegistrationClosed(Conflict):
    code = "registration_closed"

    def __init__(self, event: Event, now: datetime):
        if now < event.registration_opens_at:
            message = f"Registration for \u201c{event.title}\u201d opens at {local_text(event.registration_opens_at)}."
        else:
            message = f"Registration for \u201c{event.title}\u201d closed at {local_text(event.registration_closes_at)}."
        super().__init__(message)
        self.event_id = event.id


class AlreadyRegistered(Conflict):
    code = "already_registered"

    def __init__(self, event_id: int, team_id: int | None):
        super().__init__(("That team is" if team_id else "You are") + " already registered for this event.")
        self.event_id = event_id
        self.team_id = team_id


class WrongTeamSize(DomainError):
    status = 422
    code = "wrong_team_size"

    def __init__(self, event: Event, size: int):
        message = (f"This event takes teams of {rules.team_size_phrase(event.min_team_size, event.max_team_size)}; "
                   f"that team has {size}.")
        super().__init__(message, fields={"team_id": [message]})
        self.event_id = event.id
        self.size = size


class MemberAlreadyEntered(Conflict):
    code = "member_already_entered"

    def __init__(self, event_id: int):
        super().__init__("Someone in that team is already registered for this event with another team.")
        self.event_id = event_id


class QuestsLocked(Conflict):
    code = "event_quests_locked"

    def __init__(self, event_id: int, why: str):
        super().__init__(why)
        self.event_id = event_id


class ResultsNotReady(Conflict):
    code = "results_not_ready"

    def __init__(self, event: Event):
        super().__init__(f"The results of \u201c{event.title}\u201d are revealed when it ends.")
        self.event_id = event.id


# --- reading --------------------------------------------------------------------------------

def get_event(session: Session, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound("event", event_id)
    return event


@dataclass(frozen=True)
class EventLists:
    running: list[Event]
    upcoming: list[Event]
    past: list[Event]


def event_lists(session: Session, *, now: datetime | None = None, past_limit: int = 20) -> EventLists:
    now = now or utcnow()
    running = session.scalars(select(Event).where(Event.starts_at <= now, Event.ends_at > now)
                              .order_by(Event.ends_at, Event.id)).all()
    upcoming = session.scalars(select(Event).where(Event.starts_at > now).order_by(Event.starts_at, Event.id)).all()
    past = session.scalars(select(Event).where(Event.ends_at <= now).order_by(Event.ends_at.desc(), Event.id.desc())
                           .limit(past_limit)).all()
    return EventLists(list(running), list(upcoming), list(past))


PHASES = ("upcoming", "running", "past")


def events_select(*, phase: str | None = None, mode: str | None = None, now: datetime | None = None) -> Select:
    """Events in one of the events page's lists (running: ending soonest first; upcoming:
    starting soonest first; past: the latest first), or all of them, newest start first."""
    now = now or utcnow()
    stmt = select(Event)
    if mode is not None:
        stmt = stmt.where(Event.mode == mode)
    if phase == "running":
        return stmt.where(Event.starts_at <= now, Event.ends_at > now).order_by(Event.ends_at, Event.id)
    if phase == "upcoming":
        return stmt.where(Event.starts_at > now).order_by(Event.starts_at, Event.id)
    if phase == "past":
        return stmt.where(Event.ends_at <= now).order_by(Event.ends_at.desc(), Event.id.desc())
    return stmt.order_by(Event.starts_at.desc(), Event.id.desc())


def listed_entries(session: Session, event: Event, viewer, *, organiser: bool | None = None,
                   entries: list[EventEntry] | None = None) -> list[EventEntry]:
    """The entries the event's page lists for this viewer: all of them for its organisers,
    else without solo entrants who are children or hidden from the boards. `organiser` and
    `entries`: what the caller has read already."""
    if organiser is None:
        organiser = is_event_organiser(session, viewer, event)
    entries = entries_of(session, event) if entries is None else entries
    return [e for e in entries if organiser or publicly_listed(e)]


def quests_visible(session: Session, event: Event, viewer, now: datetime | None = None, *,
                   organiser: bool | None = None) -> bool:
    now = now or utcnow()
    if not event.hide_quests_until_start or now >= event.starts_at:
        return True
    return organiser if organiser is not None else is_event_organiser(session, viewer, event)


def event_quests(session: Session, event: Event) -> list[Quest]:
    return list(session.scalars(select(Quest).join(EventQuest, EventQuest.quest_id == Quest.id)
                                .where(EventQuest.event_id == event.id).order_by(Quest.id)))


def entries_of(session: Session, event: Event) -> list[EventEntry]:
    return list(session.scalars(select(EventEntry).where(EventEntry.event_id == event.id)
                                .options(joinedload(EventEntry.team), joinedload(EventEntry.user))
                                .order_by(EventEntry.registered_at, EventEntry.id)))


def entry_of(session: Session, event: Event, user) -> EventEntry | None:
    """The viewer's own entry (solo) or the entry of one of their teams."""
    if user is None or not user.is_authenticated:
        return None
    teams = select(TeamMembership.team_id).where(TeamMembership.user_id == user.id)
    return session.scalar(select(EventEntry).where(EventEntry.event_id == event.id,
                                                   or_(EventEntry.user_id == user.id, EventEntry.team_id.in_(teams)))
                          .limit(1))


def publicly_listed(entry: EventEntry) -> bool:
    """Solo entrants who may not be named in public (`User.unnamed_in_public`: children,
    people hidden from the boards, hidden profiles) are never on a public page."""
    return entry.user is None or not entry.user.unnamed_in_public


def entry_name(entry: EventEntry) -> str:
    return entry.team.name if entry.team is not None else entry.user.display_name


def board_name(entry: EventEntry) -> str:
    """The entry's name on a scoreboard. Only the event's organisers' live board has solo
    entrants who are not publicly listed; even there a child is "a pupil" (an event's
    organisers are not the child's class)."""
    from childsafe.views import CHILD_STAND_IN

    return CHILD_STAND_IN if entry.user is not None and entry.user.is_child else entry_name(entry)


def public_members(session: Session, entries: Iterable[EventEntry]) -> dict[int, list[str]]:
    """Names to show under each team entry: none at all for a team with a child in it
    (the team name only), and never people hidden from the boards. One query."""
    team_ids = {e.team_id: e.id for e in entries if e.team_id is not None}
    if not team_ids:
        return {}
    rows = session.execute(select(TeamMembership.team_id, User.display_name, User.is_child,
                                  User.unnamed_in_public)
                           .join(User, User.id == TeamMembership.user_id)
                           .where(TeamMembership.team_id.in_(team_ids)).order_by(User.display_name)).all()
    names: dict[int, list[str]] = defaultdict(list)
    with_children = {team_id for team_id, _, child, _ in rows if child}
    for team_id, name, child, hidden in rows:
        if team_id not in with_children and not hidden:
            names[team_ids[team_id]].append(name)
    return dict(names)


# --- organising ----------------------------------------------------------------------------

def require_organiser(session: Session, actor: User, event: Event, action: str) -> None:
    """Only the event's organisers (its creator, co-organisers, admins) do `action`."""
    if not is_event_organiser(session, actor, event):
        raise Forbidden(action, "only this event's organisers do that.")


def _clean(fields: dict) -> dict:
    fields = dict(fields)
    for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "freeze_at"):
        fields[name] = as_utc(fields.get(name))
    for name in ("title", "description", "place"):
        fields[name] = (fields.get(name) or "").strip()
    if fields.get("mode") == EventMode.solo.value:
        fields["min_team_size"], fields["max_team_size"] = 1, 1
    return fields


EVENT_FIELDS = ("title", "description", "place", "lat", "lon", "starts_at", "ends_at", "registration_opens_at",
                "registration_closes_at", "mode", "min_team_size", "max_team_size", "freeze_at")


def check_may_create(actor: User) -> None:
    """Organisers create events (a caller may ask before reading the rest of a request)."""
    if not actor.is_organiser:
        raise Forbidden("create events", "organisers run events.")


def create_event(session: Session, *, actor: User, hide_quests_until_start: bool = False,
                 dynamic_scoring: bool = False, now: datetime | None = None, **values) -> Event:
    """Organisers create events. `values` are EVENT_FIELDS."""
    check_may_create(actor)
    values = _clean({name: values.get(name) for name in EVENT_FIELDS})
    problems = rules.event_problems(**values)
    if problems:
        raise ValidationFailed(problems)
    event = Event(**values, hide_quests_until_start=bool(hide_quests_until_start),
                  dynamic_scoring=bool(dynamic_scoring), created_by_id=actor.id, created_at=now or utcnow())
    session.add(event)
    session.flush()
    return event


def update_event(session: Session, *, actor: User, event: Event, hide_quests_until_start: bool,
                 dynamic_scoring: bool, now: datetime | None = None, **values) -> Event:
    """Change an event's details. The mode, and the dynamic values, change only before the start."""
    require_organiser(session, actor, event, "change this event")
    now = now or utcnow()
    values = _clean({name: values.get(name) for name in EVENT_FIELDS})
    problems = rules.event_problems(**values)
    if values["mode"] != event.mode and (
            session.scalar(select(EventEntry.id).where(EventEntry.event_id == event.id).limit(1))
            or session.scalar(select(EventQuest.id).where(EventQuest.event_id == event.id).limit(1))):
        problems.setdefault("mode", []).append("This event has entries or quests: its mode can no longer change.")
    started = now >= event.starts_at
    if started and bool(dynamic_scoring) != event.dynamic_scoring:
        problems.setdefault("dynamic_scoring", []).append(
            "The event has started: dynamic values can be switched only before the start.")
    if problems:
        raise ValidationFailed(problems)
    switched = bool(dynamic_scoring) != event.dynamic_scoring
    for name, value in values.items():
        setattr(event, name, value)
    event.hide_quests_until_start = bool(hide_quests_until_start)
    event.dynamic_scoring = bool(dynamic_scoring)
    session.flush()
    if switched:
        for quest in event_quests(session, event):
            _apply_dynamic(quest, event.dynamic_scoring)
        session.flush()
    return event


def _apply_dynamic(quest: Quest, on: bool) -> None:
    """The scoring engine's dynamic value for an event's quest (scoring.rules.dynamic_value)."""
    if on:
        quest.dynamic_min_points, quest.dynamic_decay = rules.dynamic_settings(quest.points)
    else:
        quest.dynamic_min_points = quest.dynamic_decay = None


def add_organiser(session: Session, *, actor: User, event: Event, user: User) -> EventOrganiser:
    require_organiser(session, actor, event, "add organisers to this event")
    if not user.is_organiser:
        raise ValidationFailed({"user_id": ["Only people with an organiser account can co-organise an event."]})
    if event.created_by_id == user.id or session.scalar(
            select(EventOrganiser.id).where(EventOrganiser.event_id == event.id, EventOrganiser.user_id == user.id)):
        raise Conflict(f"{user.display_name} already organises this event.")
    row = EventOrganiser(event_id=event.id, user_id=user.id)
    session.add(row)
    session.flush()
    return row


def quests_to_offer(session: Session, event: Event, now: datetime | None = None) -> list[Quest]:
    """Published quests of the event's mode, in no event yet and not closed."""
    now = now or utcnow()
    return list(session.scalars(
        select(Quest).where(Quest.status == QuestStatus.published.value, Quest.mode == event.mode,
                            Quest.id.not_in(select(EventQuest.quest_id)),
                            or_(Quest.ends_at.is_(None), Quest.ends_at > now))
        .order_by(Quest.id.desc()).limit(200)))


def add_quest(session: Session, *, actor: User, event: Event, quest: Quest, now: datetime | None = None) -> EventQuest:
    """Put a quest in play. With dynamic values on, it takes the scoring engine's dynamic value."""
    require_organiser(session, actor, event, "choose this event's quests")
    now = now or utcnow()
    if now >= event.ends_at:
        raise QuestsLocked(event.id, "The event has ended: its quests can no longer change.")
    if quest.status != QuestStatus.published.value:
        raise ValidationFailed({"quest_id": ["Only published quests can be put in play."]})
    if quest.mode != event.mode:
        raise ValidationFailed({"quest_id": [f"This is a {event.mode} event: choose a {event.mode} quest."]})
    if session.scalar(select(EventQuest.id).where(EventQuest.quest_id == quest.id)) is not None:
        raise ValidationFailed({"quest_id": ["That quest is already part of an event."]})
    row = EventQuest(event_id=event.id, quest_id=quest.id)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ValidationFailed({"quest_id": ["That quest is already part of an event."]}) from None
    if event.dynamic_scoring:
        _apply_dynamic(quest, True)
        session.flush()
    return row


def remove_quest(session: Session, *, actor: User, event: Event, quest: Quest, now: datetime | None = None) -> None:
    require_organiser(session, actor, event, "choose this event's quests")
    if (now or utcnow()) >= event.starts_at:
        raise QuestsLocked(event.id, "The event has started: its quests stay in play until the end.")
    row = session.scalar(select(EventQuest).where(EventQuest.event_id == event.id, EventQuest.quest_id == quest.id))
    if row is None:
        raise NotFound("quest in this event", quest.id)
    session.delete(row)
    if event.dynamic_scoring:
        _apply_dynamic(quest, False)
    session.flush()


# --- registering -----------------------------------------------------------------------------

def register(session: Session, *, actor: User, event: Event, team_id: int | None = None,
             user_id: int | None = None, now: datetime | None = None) -> EventEntry:
    """Enter the event: a team's captain enters their team (team events), a person enters
    themselves (solo events). The event's organisers may enter any team or person, also
    outside the registration window, until the event ends."""
    now = now or utcnow()
    organiser = is_event_organiser(session, actor, event)
    if not organiser:
        _check_may_register(session, actor=actor, event=event, team_id=team_id, user_id=user_id)
    if now >= event.ends_at or (not organiser and not event.registration_opens_at <= now < event.registration_closes_at):
        raise RegistrationClosed(event, now)
    if event.is_team:
        entry = _register_team(session, actor=actor, event=event, team_id=team_id, organiser=organiser)
    else:
        entry = _register_person(session, actor=actor, event=event, user_id=user_id, organiser=organiser)
    entry.registered_at, entry.registered_by_id = now, actor.id
    session.add(entry)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AlreadyRegistered(event.id, team_id) from None
    return entry


def _check_may_register(session: Session, *, actor: User, event: Event, team_id: int | None,
                        user_id: int | None) -> None:
    """Participants enter only their own team (as its captain) or themselves."""
    if event.is_team:
        team = session.get(Team, team_id) if team_id else None
        if team is not None and team.captain_id != actor.id:
            raise Forbidden("register that team", "its captain registers it.")
    elif user_id not in (None, actor.id):
        raise Forbidden("register someone else", "people register themselves.")


def _register_team(session: Session, *, actor: User, event: Event, team_id: int | None,
                   organiser: bool) -> EventEntry:
    from accounts.services import visible_team

    try:  # a private class is entered by its teacher alone; to others it is not there
        team = visible_team(session, actor, team_id) if team_id else None
    except NotFound:
        team = None
    if team is None:
        raise ValidationFailed({"team_id": ["Choose a team to register."]})
    if session.scalar(select(EventEntry.id).where(EventEntry.event_id == event.id, EventEntry.team_id == team.id)):
        raise AlreadyRegistered(event.id, team.id)
    members = select(TeamMembership.user_id).where(TeamMembership.team_id == team.id)
    size = session.scalar(select(func.count()).select_from(members.subquery()))
    if not event.min_team_size <= size <= event.max_team_size:
        raise WrongTeamSize(event, size)
    overlap = (select(EventEntry.id).join(TeamMembership, TeamMembership.team_id == EventEntry.team_id)
               .where(EventEntry.event_id == event.id, TeamMembership.user_id.in_(members)).limit(1))
    if session.scalar(overlap) is not None:
        raise MemberAlreadyEntered(event.id)
    return EventEntry(event_id=event.id, team_id=team.id)


def _register_person(session: Session, *, actor: User, event: Event, user_id: int | None,
                     organiser: bool) -> EventEntry:
    user_id = user_id or actor.id
    person = session.get(User, user_id)
    if person is None or (person.is_child and person.id != actor.id and not is_teacher_of(session, actor, person.id)):
        # A pupil is entered by themself or their teacher; to other organisers they are not there.
        raise ValidationFailed({"user_id": ["There is no such person."]})
    if session.scalar(select(EventEntry.id).where(EventEntry.event_id == event.id, EventEntry.user_id == user_id)):
        raise AlreadyRegistered(event.id, None)
    return EventEntry(event_id=event.id, user_id=user_id)


# --- the scoreboard ---------------------------------------------------------------------------

@dataclass(frozen=True)
class BoardRow:
    rank: int
    entry_id: int
    name: str
    points: int
    solved: tuple[int, ...]  # ids of the event's quests this entry solved
    listed: bool = True       # False: a solo entrant never shown publicly
    scored: bool = True       # False: nothing counted yet (such entries share the last place)


@dataclass(frozen=True)
class Board:
    event_id: int
    phase: str                # upcoming, running, frozen, ended
    view: str                 # live, frozen (the public during a freeze) or final
    as_of: datetime | None    # the freeze time for a frozen board
    ends_at: datetime
    quests: list[tuple[int, str]]
    rows: list[BoardRow] = field(default_factory=list)

    def public(self) -> Board:
        """The same board without the entrants never shown publicly, ranked among the rest."""
        return Board(self.event_id, self.phase, self.view, self.as_of, self.ends_at, self.quests,
                     _ranked([r for r in self.rows if r.listed]))


def _ranked(rows: list[BoardRow]) -> list[BoardRow]:
    """Ranks for rows in board order: one place each for entries with points counted (ties
    are already broken by who got there first), a shared last place for the rest."""
    out, scored = [], 0
    for position, row in enumerate(rows, start=1):
        if row.scored:
            scored = position
        out.append(replace(row, rank=position if row.scored else scored + 1))
    return out


def scoreboard(session: Session, event: Event, *, live: bool = False, now: datetime | None = None,
               quests: list[Quest] | None = None, entries: list[EventEntry] | None = None) -> Board:
    """The event's board: `live` (organisers) counts everything so far; otherwise, during a
    freeze, only what was counted before freeze_at. After the end both are the final board.
    Three queries: quests, entries with names (unless the caller has read them: `quests`,
    `entries`), and points per entry and quest."""
    now = now or utcnow()
    phase = event.phase(now)
    view = "final" if phase == "ended" else ("frozen" if phase == "frozen" and not live else "live")
    cutoff = event.freeze_at if view == "frozen" else None
    quests = [(q.id, q.title) for q in (event_quests(session, event) if quests is None else quests)]
    entries = entries_of(session, event) if entries is None else entries
    rows = _entry_points(session, event, cutoff)
    solved: dict[int, list[int]] = defaultdict(list)
    totals: dict[int, tuple[int, int]] = {}
    for member_id, quest_id, points, last_id in rows:
        points = int(points)
        if points > 0:
            solved[member_id].append(quest_id)
        before = totals.get(member_id, (0, 0))
        totals[member_id] = (before[0] + points, max(before[1], last_id))
    board_rows = []
    for entry in sorted(entries, key=lambda e: _rank_key(e, totals)):
        member = entry.team_id if entry.team_id is not None else entry.user_id
        board_rows.append(BoardRow(0, entry.id, board_name(entry), totals.get(member, (0, 0))[0],
                                   tuple(sorted(solved.get(member, ()))), publicly_listed(entry), member in totals))
    if not live and not quests_visible(session, event, None, now):
        quests = []
    return Board(event.id, phase, view, cutoff, event.ends_at, quests, _ranked(board_rows))


def _rank_key(entry: EventEntry, totals: dict[int, tuple[int, int]]):
    member = entry.team_id if entry.team_id is not None else entry.user_id
    if member not in totals:
        return (1, 0, 0, entry.id)
    points, last_id = totals[member]
    return (0, -points, last_id, entry.id)


def _entry_points(session: Session, event: Event, cutoff: datetime | None):
    """(member, quest_id, points, last ledger id) per entry and quest, from the ledger rows
    the event scope counts (scoring.leaderboards.EventScope)."""
    member = LedgerEntry.team_id if event.is_team else LedgerEntry.user_id
    # Ties go to who reached the score first: the latest *award* counts, not a rescore that a
    # dynamic quest's falling value wrote later for an early solver (or a reversal).
    first_reached = func.coalesce(func.max(case((LedgerEntry.kind == "award", LedgerEntry.id))), 0)
    stmt = (select(member, Claim.quest_id, func.sum(LedgerEntry.amount), first_reached)
            .join(Claim, Claim.id == LedgerEntry.claim_id)
            .where(member.is_not(None), SCOPE_KINDS["event"].ledger_filter(event.id))
            .group_by(member, Claim.quest_id))
    if cutoff is not None:
        stmt = stmt.where(LedgerEntry.created_at < cutoff)
    return session.execute(stmt).all()


def board_state(board: Board) -> dict:
    """The board as the live stream and the JSON endpoint send it."""
    return {"event_id": board.event_id, "phase": board.phase, "view": board.view,
            "as_of": isoformat(board.as_of), "ends_at": isoformat(board.ends_at),
            "quests": [{"id": quest_id, "title": title} for quest_id, title in board.quests],
            "rows": [{"rank": r.rank, "entry_id": r.entry_id, "name": r.name, "points": r.points,
                      "solved": list(r.solved)} for r in board.rows]}


def public_state(session: Session, event_id: int) -> dict:
    """What everyone may see now (frozen during a freeze); a live publisher's `build`."""
    return board_state(scoreboard(session, get_event(session, event_id)).public())


def organiser_state(session: Session, event_id: int) -> dict:
    """The live board, for the event's organisers only."""
    return board_state(scoreboard(session, get_event(session, event_id), live=True))


def viewer_board(session: Session, event: Event, viewer, now: datetime | None = None, *,
                 organiser: bool | None = None, quests: list[Quest] | None = None,
                 entries: list[EventEntry] | None = None) -> Board:
    """Organisers see the live board; everyone else the public one. `organiser`, `quests`,
    `entries`: what the caller has asked or read already."""
    if organiser is None:
        organiser = is_event_organiser(session, viewer, event)
    if organiser:
        return scoreboard(session, event, live=True, now=now, quests=quests, entries=entries)
    return scoreboard(session, event, now=now, quests=quests, entries=entries).public()


def publish_boards(session: Session, event: Event, now: datetime | None = None) -> None:
    """After this transaction commits, send the new boards: the organisers' always, the
    public one unless the board is frozen (nothing the public sees has changed)."""
    event_id = event.id
    live.publish(session, organiser_topic(event_id), "state", lambda s: organiser_state(s, event_id))
    if event.phase(now or utcnow()) != "frozen":
        live.publish(session, public_topic(event_id), "state", lambda s: public_state(s, event_id))


def claim_scored(session: Session, claim: Claim, now: datetime | None = None) -> None:
    """Hook for challenges.reviews: a claim was approved or reversed. One indexed query when
    its quest is in no event."""
    event_id = session.scalar(select(EventQuest.event_id).where(EventQuest.quest_id == claim.quest_id))
    if event_id is None:
        return
    event = session.get(Event, event_id)
    now = now or utcnow()
    if event.starts_at <= now < event.ends_at:
        publish_boards(session, event, now)


# --- results ---------------------------------------------------------------------------------

def finalise(session: Session, *, event: Event, now: datetime | None = None) -> bool:
    """Reveal the results once the event has ended: award the event badges (every member of
    an entry with at least one solved quest finishes; the members of the top three entries
    with points reach the podium) and publish the final board. Once only: of two racing
    calls, one marks the event and awards; the other returns False."""
    now = now or utcnow()
    if now < event.ends_at:
        raise ResultsNotReady(event)
    if event.finalised_at is not None:
        return False
    marked = session.execute(update(Event).where(Event.id == event.id, Event.finalised_at.is_(None))
                             .values(finalised_at=now).execution_options(synchronize_session=False))
    if marked.rowcount != 1:
        session.refresh(event)
        return False
    session.refresh(event)
    board = scoreboard(session, event, live=True, now=now)
    members = _entry_members(session, board.rows)
    for row in board.rows:
        for user_id in members.get(row.entry_id, ()):
            if row.solved:
                badges.award(session, user_id=user_id, code=FINISHER_BADGE, now=now)
            if row.rank <= PODIUM_PLACES and row.points > 0:
                badges.award(session, user_id=user_id, code=PODIUM_BADGE, now=now)
    event_id = event.id
    live.publish(session, public_topic(event_id), "state", lambda s: public_state(s, event_id))
    live.publish(session, organiser_topic(event_id), "state", lambda s: organiser_state(s, event_id))
    session.flush()
    return True


def _entry_members(session: Session, rows: list[BoardRow]) -> dict[int, list[int]]:
    entry_ids = [r.entry_id for r in rows]
    if not entry_ids:
        return {}
    found: dict[int, list[int]] = defaultdict(list)
    solo = session.execute(select(EventEntry.id, EventEntry.user_id)
                           .where(EventEntry.id.in_(entry_ids), EventEntry.user_id.is_not(None))).all()
    team = session.execute(select(EventEntry.id, TeamMembership.user_id)
                           .join(TeamMembership, TeamMembership.team_id == EventEntry.team_id)
                           .where(EventEntry.id.in_(entry_ids)).order_by(TeamMembership.user_id)).all()
    for entry_id, user_id in [*solo, *team]:
        found[entry_id].append(user_id)
    return dict(found)


def finalise_due(session: Session, *, now: datetime | None = None) -> list[Event]:
    """Finalise every event that has ended and is not finalised yet (the CLI command)."""
    now = now or utcnow()
    due = session.scalars(select(Event).where(Event.ends_at <= now, Event.finalised_at.is_(None))
                          .order_by(Event.id)).all()
    return [event for event in due if finalise(session, event=event, now=now)]


def results(session: Session, event: Event, now: datetime | None = None) -> Board:
    """The final public board, finalising the event on the first look after the end."""
    now = now or utcnow()
    if now < event.ends_at:
        raise ResultsNotReady(event)
    if event.finalised_at is None:
        finalise(session, event=event, now=now)
    return scoreboard(session, event, now=now).public()


@dataclass(frozen=True)
class Certificate:
    event: Event
    entry: EventEntry
    name: str
    members: list[str]
    rank: int
    entries: int
    points: int
    solved: int


def certificate(session: Session, *, event: Event, entry_id: int, viewer, now: datetime | None = None) -> Certificate:
    """A printable certificate for one entry, after the end. An entry never shown publicly
    (a child's or hidden solo entry) has one only for that person, a child's teacher and the
    organisers."""
    board = results(session, event, now)
    entry = session.get(EventEntry, entry_id)
    if entry is None or entry.event_id != event.id:
        raise NotFound("entry", entry_id)
    row = next((r for r in board.rows if r.entry_id == entry.id), None)
    # A child's own certificate (printed at home or by their teacher) carries their name; the
    # event's organisers, who are not their class, see "a pupil" as on their live board.
    named = (viewer is not None and viewer.is_authenticated and viewer.id == entry.user_id) or (
        entry.user is not None and entry.user.is_child and is_teacher_of(session, viewer, entry.user_id))
    if row is None:  # never shown publicly: only for that person (their teacher) and the organisers
        if not named and not is_event_organiser(session, viewer, event):
            raise NotFound("entry", entry_id)
        row = next(r for r in scoreboard(session, event, live=True, now=now).rows if r.entry_id == entry.id)
    members = public_members(session, [entry]).get(entry.id, [])
    return Certificate(event, entry, entry_name(entry) if named else board_name(entry), members, row.rank,
                       len(board.rows), row.points, len(row.solved))
