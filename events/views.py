"""Event pages: the list, the event with its quests, entries and scoreboard (live in the
browser through Server-Sent Events), organising, registering, results, certificates and
the iCalendar file. `flask events finalise` reveals the results of events that ended."""
from __future__ import annotations

from types import SimpleNamespace
from zoneinfo import ZoneInfo

import click
from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import or_, select

import live
from accounts.forms import EmptyForm
from accounts.models import Role, Team, User
from accounts.services import is_private_class_team
from challenges.models import Quest
from errors import DomainError, Forbidden
from events import ical, rules, services
from events.forms import AddOrganiserForm, AddQuestForm, EventForm, RegisterTeamForm
from events.guards import is_event_organiser
from events.models import Event
from extensions import db
from forms import to_utc
from timeutil import utcnow
from web import add_rule_errors, apply_errors, flash_form_errors

bp = Blueprint("events", __name__, cli_group="events")


def _zone() -> str:
    return current_app.config["TIMEZONE"]


def _event(event_id: int) -> Event:
    return db.get_or_404(Event, event_id)


def _back(event: Event):
    return redirect(url_for("events.event", event_id=event.id))


# --- list and page -------------------------------------------------------------------------

@bp.get("/events")
def index():
    return render_template("events/index.html", lists=services.event_lists(db.session))


@bp.get("/events/<int:event_id>")
def event(event_id: int):
    event = _event(event_id)
    organiser = is_event_organiser(db.session, current_user, event)
    every_entry, every_quest = services.entries_of(db.session, event), services.event_quests(db.session, event)
    entries = services.listed_entries(db.session, event, current_user, organiser=organiser, entries=every_entry)
    shown = services.quests_visible(db.session, event, current_user, organiser=organiser)
    forms = _organiser_forms(event) if organiser else {}
    return render_template("events/event.html", event=event, organiser=organiser, entries=entries,
                           quests=every_quest if shown else None, members=services.public_members(db.session, entries),
                           board=services.viewer_board(db.session, event, current_user, organiser=organiser,
                                                       quests=every_quest, entries=every_entry),
                           my_entry=services.entry_of(db.session, event, current_user),
                           register_form=_register_form(event, organiser), action_form=EmptyForm(), **forms)


def _register_form(event: Event, organiser: bool) -> RegisterTeamForm | None:
    """Team events: the teams the viewer may enter (their own as captain; any, for organisers,
    but a private school class only for its teacher, who alone may choose to show it, and admins)."""
    if not current_user.is_authenticated or not event.is_team:
        return None
    teams = select(Team).order_by(Team.name).limit(500)
    if not organiser:
        teams = teams.where(Team.captain_id == current_user.id)
    elif not current_user.is_admin:
        teams = teams.where(or_(Team.captain_id == current_user.id, ~is_private_class_team(Team.id)))
    form = RegisterTeamForm()
    form.team_id.choices = [(t.id, t.name) for t in db.session.scalars(teams)]
    return form


def _organiser_forms(event: Event) -> dict:
    add_quest = AddQuestForm()
    add_quest.quest_id.choices = [(q.id, f"#{q.id} {q.title} ({q.points} pts)")
                                  for q in services.quests_to_offer(db.session, event)]
    add_organiser = AddOrganiserForm()
    people = db.session.scalars(select(User).where(User.role.in_((Role.organiser.value, Role.admin.value)),
                                                   User.id != event.created_by_id)
                                .order_by(User.display_name).limit(500))
    add_organiser.user_id.choices = [(u.id, u.display_name) for u in people]
    return {"add_quest_form": add_quest, "add_organiser_form": add_organiser}


# --- creating and changing -----------------------------------------------------------------

def _values(form: EventForm) -> dict:
    zone = _zone()
    return dict(title=form.title.data, description=form.description.data, place=form.place.data,
                lat=form.lat.data, lon=form.lon.data, mode=form.mode.data,
                min_team_size=form.min_team_size.data, max_team_size=form.max_team_size.data,
                **{name: to_utc(getattr(form, name).data, zone) for name in
                   ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "freeze_at")})


def _save(form: EventForm, save, template: str, **context):
    """Validate, call the service, commit and go to the event; or show the form with every
    problem beside its field."""
    if form.validate_on_submit():
        try:
            event = save(hide_quests_until_start=form.hide_quests_until_start.data,
                         dynamic_scoring=form.dynamic_scoring.data, **_values(form))
        except DomainError as error:
            db.session.rollback()
            apply_errors(form, error)
        else:
            db.session.commit()
            flash("Event saved.", "success")
            return _back(event)
    elif form.is_submitted():
        add_rule_errors(form, rules.event_problems(**_values(form)))
    return render_template(template, form=form, **context), 422 if form.errors else 200


@bp.route("/events/new", methods=["GET", "POST"])
@login_required
def new_event():
    services.check_may_create(current_user)
    return _save(EventForm(), lambda **values: services.create_event(db.session, actor=current_user, **values),
                 "events/form.html", event=None)


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit_event(event_id: int):
    event = _event(event_id)
    services.require_organiser(db.session, current_user, event, "change this event")
    form = EventForm() if request.method == "POST" else EventForm(obj=_local_copy(event))
    return _save(form, lambda **values: services.update_event(db.session, actor=current_user, event=event, **values),
                 "events/form.html", event=event)


def _local_copy(event: Event) -> SimpleNamespace:
    """The event's fields for the form, with times in the site's zone."""
    zone = ZoneInfo(_zone())
    copy = SimpleNamespace()
    for name in ("title", "description", "place", "lat", "lon", "mode", "min_team_size", "max_team_size",
                 "hide_quests_until_start", "dynamic_scoring"):
        setattr(copy, name, getattr(event, name))
    for name in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "freeze_at"):
        value = getattr(event, name)
        setattr(copy, name, value.astimezone(zone).replace(tzinfo=None) if value else None)
    return copy


def _event_action(event_id: int, form, action, success: str):
    """A one-form organiser action on an event, then back to the event page."""
    event = _event(event_id)
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(event)
    try:
        action(event)
    except DomainError as error:
        db.session.rollback()
        flash(error.message if not error.fields else " ".join(m for ms in error.fields.values() for m in ms), "error")
    else:
        db.session.commit()
        flash(success, "success")
    return _back(event)


@bp.post("/events/<int:event_id>/quests")
@login_required
def add_quest(event_id: int):
    form = AddQuestForm()
    return _event_action(event_id, form, lambda event: services.add_quest(
        db.session, actor=current_user, event=event, quest=db.get_or_404(Quest, form.quest_id.data)),
        "Quest put in play.")


@bp.post("/events/<int:event_id>/quests/<int:quest_id>/remove")
@login_required
def remove_quest(event_id: int, quest_id: int):
    return _event_action(event_id, EmptyForm(), lambda event: services.remove_quest(
        db.session, actor=current_user, event=event, quest=db.get_or_404(Quest, quest_id)), "Quest taken out.")


@bp.post("/events/<int:event_id>/organisers")
@login_required
def add_organiser(event_id: int):
    form = AddOrganiserForm()
    return _event_action(event_id, form, lambda event: services.add_organiser(
        db.session, actor=current_user, event=event, user=db.get_or_404(User, form.user_id.data)),
        "Organiser added.")


@bp.post("/events/<int:event_id>/register")
@login_required
def register(event_id: int):
    """Solo events: the viewer enters; team events: the chosen team (its captain, or an organiser)."""
    team_event = _event(event_id).is_team
    form = RegisterTeamForm() if team_event else EmptyForm()
    return _event_action(event_id, form, lambda event: services.register(
        db.session, actor=current_user, event=event, team_id=form.team_id.data if team_event else None),
        "Registered: see you at the start!")


# --- scoreboard: JSON and live streams -------------------------------------------------------

@bp.get("/events/<int:event_id>/scoreboard.json")
def scoreboard_json(event_id: int):
    """The board this viewer may see: organisers the live one, everyone else the public one."""
    return jsonify(services.board_state(services.viewer_board(db.session, _event(event_id), current_user)))


@bp.get("/events/<int:event_id>/scoreboard/stream")
def scoreboard_stream(event_id: int):
    """The public board as Server-Sent Events (frozen during a freeze)."""
    _event(event_id)
    return live.stream(services.public_topic(event_id), "state", lambda s: services.public_state(s, event_id))


@bp.get("/events/<int:event_id>/scoreboard/live")
def organiser_stream(event_id: int):
    """The live board as Server-Sent Events, for the event's organisers only."""
    event = _event(event_id)
    if not is_event_organiser(db.session, current_user, event):
        raise Forbidden("see the live scoreboard", "only this event's organisers do, while it is frozen.")
    return live.stream(services.organiser_topic(event_id), "state", lambda s: services.organiser_state(s, event_id))


# --- results, certificates, calendar ---------------------------------------------------------

@bp.get("/events/<int:event_id>/results")
def results(event_id: int):
    event = _event(event_id)
    if utcnow() < event.ends_at:
        flash("The results are revealed when the event ends.", "info")
        return _back(event)
    board = services.results(db.session, event)  # finalises on the first look after the end
    db.session.commit()
    return render_template("events/results.html", event=event, board=board)


@bp.get("/events/<int:event_id>/certificate/<int:entry_id>")
def certificate(event_id: int, entry_id: int):
    event = _event(event_id)
    if utcnow() < event.ends_at:
        abort(404)
    found = services.certificate(db.session, event=event, entry_id=entry_id, viewer=current_user)
    db.session.commit()
    return render_template("events/certificate.html", cert=found)


@bp.get("/events/<int:event_id>.ics")
def calendar_file(event_id: int):
    event = _event(event_id)
    url = url_for("events.event", event_id=event.id, _external=True)
    body = ical.calendar(uid=f"event-{event.id}@{request.host.split(':')[0]}", title=event.title,
                         description=f"{event.description}\n\n{url}", location=event.place,
                         starts_at=event.starts_at, ends_at=event.ends_at, url=url, stamp=event.created_at,
                         geo=(event.lat, event.lon) if event.lat is not None else None)
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'attachment; filename="event-{event.id}.ics"'
    response.charset = "utf-8"
    return response


@bp.cli.command("finalise")
def finalise_command():
    """Reveal the results (and award the badges) of every event that has ended."""
    done = services.finalise_due(db.session)
    db.session.commit()
    for event in done:
        click.echo(f"Finalised event {event.id}: {event.title}")
    if not done:
        click.echo("No event was waiting for its results.")
