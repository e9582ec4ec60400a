"""Events: creating them, registering, hidden quests, who may take event quests, the
scoreboard and its freeze, live streams, dynamic values, results, certificates, the
calendar file and the pages."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import func, select

from accounts import services as accounts
from challenges import reviews
from challenges.models import Claim, Quest
from errors import Forbidden, ValidationFailed
from events import ical, services
from events.guards import EventNotRunning, NotRegistered, TeamFull
from events.models import Event, EventEntry, EventOrganiser, EventQuest
from extensions import db
from scoring.leaderboards import Scope
from scoring.models import BadgeAward
from tests.events_helpers import add_quests, enter, event_fields, make_event, set_times, team_of
from tests.factories import approve, make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from tests.querycount import counting
from tests.sse import read_blocks
from timeutil import utcnow


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def form_data(**overrides) -> dict:
    data = {"title": "Southville Jam", "description": "An afternoon of fixes.", "place": "Southville Centre",
            "lat": "", "lon": "", "starts_at": "2099-06-01T13:00", "ends_at": "2099-06-01T17:00",
            "registration_opens_at": "2099-05-01T09:00", "registration_closes_at": "2099-06-01T12:00",
            "mode": "team", "min_team_size": "2", "max_team_size": "4", "freeze_at": "2099-06-01T16:30"}
    data.update(overrides)
    return data


# --- creating ---------------------------------------------------------------------------------

def test_organiser_creates_an_event_from_the_form(client, login):
    organiser = make_organiser()
    login(organiser)
    response = client.post("/events/new", data=form_data(hide_quests_until_start="y"))
    event = db.session.scalar(select(Event))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/events/{event.id}")
    assert event.starts_at.isoformat() == "2099-06-01T12:00:00+00:00"  # 13:00 London summer time
    assert (event.mode, event.min_team_size, event.max_team_size, event.hide_quests_until_start) == ("team", 2, 4, True)
    assert event.freeze_at.isoformat() == "2099-06-01T15:30:00+00:00"


def test_an_event_ending_before_it_starts_is_refused_beside_the_field(client, login):
    login(make_organiser())
    response = client.post("/events/new", data=form_data(ends_at="2099-06-01T12:00"))
    assert response.status_code == 422
    assert "The event must end after it starts." in response.get_data(as_text=True)
    assert count(Event) == 0


@pytest.mark.parametrize("overrides, field, message", [
    ({"freeze_at": "2099-06-01T18:00"}, "freeze_at", "The scoreboard freeze must fall after the start"),
    ({"registration_closes_at": "2099-06-02T12:00"}, "registration_closes_at", "must close by the end"),
    ({"min_team_size": "5", "max_team_size": "3"}, "max_team_size", "cannot be below the smallest"),
    ({"title": ""}, "title", "This field is required."),
])
def test_bad_event_fields_get_clear_messages_and_nothing_is_saved(client, login, overrides, field, message):
    login(make_organiser())
    response = client.post("/events/new", data=form_data(**overrides))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert count(Event) == 0


def test_the_service_refuses_an_end_at_or_before_the_start(app, ctx):
    organiser = make_organiser()
    start = utcnow() + timedelta(days=1)
    with pytest.raises(ValidationFailed) as refused:
        services.create_event(db.session, actor=organiser, **event_fields(starts_at=start, ends_at=start))
    assert refused.value.fields["ends_at"] == ["The event must end after it starts."]


def test_participants_cannot_create_or_change_events(client, login):
    organiser = make_organiser()
    event = make_event(organiser)
    login(make_user())
    assert client.post("/events/new", data=form_data()).status_code == 403
    assert client.post(f"/events/{event.id}/edit", data=form_data(title="Mine now")).status_code == 403
    assert count(Event) == 1 and db.session.get(Event, event.id).title == "Easton Jam"


def test_organiser_changes_the_event_and_the_form_shows_local_times(client, login):
    organiser = make_organiser()
    event = make_event(organiser, **{k: v for k, v in event_fields().items()})
    login(organiser)
    page = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert 'value="Easton Jam"' in page
    response = client.post(f"/events/{event.id}/edit", data=form_data(
        title="Easton Big Jam", starts_at="2099-06-01T13:00", freeze_at=""))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Event, event.id).title == "Easton Big Jam"


# --- registering --------------------------------------------------------------------------------

def test_captain_registers_their_team_and_the_page_says_so(client, login):
    event = make_event(make_organiser())
    team, captain = team_of(2, "Ants")
    login(captain)
    response = client.post(f"/events/{event.id}/register", data={"team_id": team.id}, follow_redirects=True)
    assert "Registered" in response.get_data(as_text=True)
    assert "You are registered with Ants" in response.get_data(as_text=True)
    assert count(EventEntry) == 1


def test_registering_after_the_window_is_refused_and_changes_nothing(client, login):
    now = utcnow()
    event = make_event(make_organiser(), registration_opens_at=now - timedelta(days=3),
                       registration_closes_at=now - timedelta(days=1))
    team, captain = team_of(2, "Late")
    login(captain)
    response = client.post(f"/events/{event.id}/register", data={"team_id": team.id}, follow_redirects=True)
    assert "Registration for “Easton Jam” closed at" in response.get_data(as_text=True)
    assert count(EventEntry) == 0


def test_registering_twice_or_with_the_wrong_team_size_is_refused(app, ctx):
    event = make_event(make_organiser(), min_team_size=2, max_team_size=3)
    team, captain = team_of(2, "Ants")
    enter(event, team, captain)
    with pytest.raises(services.AlreadyRegistered):
        services.register(db.session, actor=captain, event=event, team_id=team.id)
    db.session.rollback()
    big, big_captain = team_of(4, "Crowd")
    with pytest.raises(services.WrongTeamSize) as refused:
        services.register(db.session, actor=big_captain, event=event, team_id=big.id)
    assert refused.value.message == "This event takes teams of 2 to 3 people; that team has 4."
    db.session.rollback()
    alone, alone_captain = team_of(1, "Alone")
    with pytest.raises(services.WrongTeamSize):
        services.register(db.session, actor=alone_captain, event=event, team_id=alone.id)
    db.session.rollback()
    assert count(EventEntry) == 1


def test_wrong_team_size_on_the_page_gives_the_message(client, login):
    event = make_event(make_organiser(), min_team_size=3, max_team_size=3)
    team, captain = team_of(2, "Pair")
    login(captain)
    response = client.post(f"/events/{event.id}/register", data={"team_id": team.id}, follow_redirects=True)
    assert "This event takes teams of exactly 3 people; that team has 2." in response.get_data(as_text=True)
    assert count(EventEntry) == 0


def test_only_the_captain_or_an_organiser_registers_a_team(app, ctx):
    organiser = make_organiser()
    event = make_event(organiser, registration_closes_at=utcnow() - timedelta(minutes=5),
                       registration_opens_at=utcnow() - timedelta(days=1))
    member = make_user()
    team = make_team(make_user(), name="Ants", members=(member,))
    with pytest.raises(Forbidden):
        services.register(db.session, actor=member, event=event, team_id=team.id)
    db.session.rollback()
    services.register(db.session, actor=organiser, event=event, team_id=team.id)  # also after the window
    db.session.commit()
    assert db.session.scalar(select(EventEntry.registered_by_id)) == organiser.id


def test_a_person_cannot_be_in_two_entries(app, ctx):
    event = make_event(make_organiser())
    both = make_user()
    first = make_team(make_user(), name="First", members=(both,))
    second = make_team(make_user(), name="Second", members=(both,))
    services.register(db.session, actor=first.captain, event=event, team_id=first.id)
    with pytest.raises(services.MemberAlreadyEntered):
        services.register(db.session, actor=second.captain, event=event, team_id=second.id)


def test_joining_a_full_registered_team_is_refused_with_a_message(client, login):
    event = make_event(make_organiser(), max_team_size=2)
    team, captain = team_of(2, "Full")
    enter(event, team, captain)
    newcomer = make_user()
    login(newcomer)
    response = client.post("/teams/join", data={"code": team.join_code})
    assert "which takes teams of at most 2; the team is full." in response.get_data(as_text=True)
    assert not accounts.is_member(db.session, user_id=newcomer.id, team_id=team.id)


def test_a_team_can_grow_again_once_its_event_has_ended(app, ctx):
    event = make_event(make_organiser(), max_team_size=2)
    team, captain = team_of(2, "Full")
    enter(event, team, captain)
    with pytest.raises(TeamFull):
        accounts.join_team(db.session, actor=make_user(), code=team.join_code)
    db.session.rollback()
    set_times(event, ends_at=utcnow())
    accounts.join_team(db.session, actor=make_user(), code=team.join_code)


def test_solo_events_take_people(app, ctx):
    event = make_event(make_organiser(), mode="solo")
    person = make_user()
    entry = services.register(db.session, actor=person, event=event)
    assert (entry.user_id, entry.team_id) == (person.id, None)


# --- hidden quests and who may take them ------------------------------------------------------------

def _secret_event(organiser):
    start = utcnow() + timedelta(hours=2)
    event = make_event(organiser, hide_quests_until_start=True, starts_at=start, ends_at=start + timedelta(hours=3),
                       registration_closes_at=start)
    problem = make_problem(organiser)
    quest = make_quest(organiser, title="Secret bench repair", mode="team", problem_id=problem.id)
    services.add_quest(db.session, actor=organiser, event=event, quest=quest)
    db.session.commit()
    return event, quest, problem


def test_secret_quests_appear_nowhere_before_the_start(client, login):
    organiser = make_organiser()
    event, quest, problem = _secret_event(organiser)
    make_quest(organiser, title="Ordinary litter pick")
    for path in ("/quests", "/", "/api/v1/quests", f"/problems/{problem.id}", f"/events/{event.id}"):
        text = client.get(path).get_data(as_text=True)
        assert "Ordinary litter pick" in text or path.startswith(("/problems", "/events"))
        assert "Secret bench repair" not in text, path
    assert client.get(f"/quests/{quest.id}").status_code == 404
    assert client.get(f"/api/v1/quests/{quest.id}").status_code == 404
    assert "The quests are revealed when the event starts." in client.get(f"/events/{event.id}").get_data(as_text=True)
    login(organiser)
    assert client.get(f"/quests/{quest.id}").status_code == 200
    assert "Secret bench repair" in client.get(f"/events/{event.id}").get_data(as_text=True)


def test_secret_quests_appear_once_the_event_starts(client):
    organiser = make_organiser()
    event, quest, _ = _secret_event(organiser)
    set_times(event, starts_at=utcnow() - timedelta(minutes=1))
    assert "Secret bench repair" in client.get("/quests").get_data(as_text=True)
    assert client.get(f"/quests/{quest.id}").status_code == 200
    assert "Secret bench repair" in client.get(f"/events/{event.id}").get_data(as_text=True)


def test_event_quests_are_taken_only_while_it_runs_and_only_by_entries(app, ctx):
    organiser = make_organiser()
    event, quest, _ = _secret_event(organiser)
    team, captain = team_of(2, "Ants")
    services.register(db.session, actor=organiser, event=event, team_id=team.id)
    db.session.commit()
    with pytest.raises(EventNotRunning, match="starts at"):
        make_claim(captain, quest, team=team)
    db.session.rollback()
    set_times(event, starts_at=utcnow() - timedelta(minutes=1))
    outsider_team, outsider = team_of(2, "Outsiders")
    with pytest.raises(NotRegistered) as refused:
        make_claim(outsider, quest, team=outsider_team)
    assert refused.value.message == ("This quest is part of “Easton Jam”. Your team is not registered for it, "
                                     "so it cannot be taken on.")
    db.session.rollback()
    assert make_claim(captain, quest, team=team).id


def test_an_unregistered_team_taking_an_event_quest_sees_why(client, login):
    organiser = make_organiser()
    event = make_event(organiser)
    quest, = add_quests(organiser, event, 1)
    team, captain = team_of(2, "Outsiders")
    login(captain)
    response = client.post(f"/quests/{quest.id}/claim", data={"team_id": team.id}, follow_redirects=True)
    assert "Your team is not registered for it" in response.get_data(as_text=True)
    assert count(Claim) == 0


# --- organising quests --------------------------------------------------------------------------

def test_quests_in_play_must_match_the_mode_and_belong_to_one_event(app, ctx):
    organiser = make_organiser()
    event = make_event(organiser)
    other = make_event(organiser, title="Other jam")
    solo = make_quest(organiser, mode="solo")
    with pytest.raises(ValidationFailed, match="Some fields"):
        services.add_quest(db.session, actor=organiser, event=event, quest=solo)
    team_quest = make_quest(organiser, mode="team")
    services.add_quest(db.session, actor=organiser, event=event, quest=team_quest)
    db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        services.add_quest(db.session, actor=organiser, event=other, quest=team_quest)
    assert refused.value.fields == {"quest_id": ["That quest is already part of an event."]}


def test_only_the_events_organisers_choose_its_quests(client, login):
    organiser = make_organiser()
    event = make_event(organiser)
    quest = make_quest(organiser, mode="team")
    login(make_organiser())  # an organiser, but not of this event
    response = client.post(f"/events/{event.id}/quests", data={"quest_id": quest.id}, follow_redirects=True)
    assert "only this event&#39;s organisers do that" in response.get_data(as_text=True)
    assert count(EventQuest) == 0
    login(organiser)
    client.post(f"/events/{event.id}/quests", data={"quest_id": quest.id})
    assert count(EventQuest) == 1


def test_a_co_organiser_sees_the_live_board(client, login):
    organiser, helper = make_organiser(), make_organiser(name="Helper")
    event = make_event(organiser, freeze_at=utcnow() + timedelta(minutes=30))
    login(organiser)
    client.post(f"/events/{event.id}/organisers", data={"user_id": helper.id})
    assert count(EventOrganiser) == 1
    login(helper)
    assert client.get(f"/events/{event.id}/scoreboard/live").status_code == 200


def test_quests_leave_an_event_only_before_the_start(app, ctx):
    organiser = make_organiser()
    event = make_event(organiser)
    quest, = add_quests(organiser, event, 1)
    with pytest.raises(services.QuestsLocked):
        services.remove_quest(db.session, actor=organiser, event=event, quest=quest)


# --- dynamic values ---------------------------------------------------------------------------

def test_dynamic_events_give_their_quests_dynamic_values(app, ctx):
    organiser = make_organiser()
    event = make_event(organiser, dynamic_scoring=True)
    quest, = add_quests(organiser, event, 1)
    assert (quest.dynamic_min_points, quest.dynamic_decay) == (25, 5)


def test_switching_dynamic_values_before_the_start_changes_the_quests(app, ctx):
    organiser = make_organiser()
    start = utcnow() + timedelta(days=1)
    fields = event_fields(starts_at=start, ends_at=start + timedelta(hours=4), registration_closes_at=start)
    event = make_event(organiser, **fields)
    quest, = add_quests(organiser, event, 1)
    assert quest.dynamic_min_points is None
    services.update_event(db.session, actor=organiser, event=event, hide_quests_until_start=False,
                          dynamic_scoring=True, **fields)
    assert (quest.dynamic_min_points, quest.dynamic_decay) == (25, 5)
    services.update_event(db.session, actor=organiser, event=event, hide_quests_until_start=False,
                          dynamic_scoring=False, **fields)
    assert (quest.dynamic_min_points, quest.dynamic_decay) == (None, None)


def test_dynamic_values_cannot_be_switched_after_the_start(app, ctx):
    organiser = make_organiser()
    event = make_event(organiser)
    quest, = add_quests(organiser, event, 1)
    with pytest.raises(ValidationFailed) as refused:
        services.update_event(db.session, actor=organiser, event=event, hide_quests_until_start=False,
                              dynamic_scoring=True, **event_fields())
    assert "only before the start" in refused.value.fields["dynamic_scoring"][0]
    db.session.rollback()
    assert db.session.get(Quest, quest.id).dynamic_min_points is None


def test_a_dynamic_quests_value_falls_for_every_entry_that_solved_it(app, ctx):
    organiser = make_organiser()
    event = make_event(organiser, dynamic_scoring=True)
    quest, = add_quests(organiser, event, 1)
    teams = [team_of(1, name) for name in ("Ants", "Bees", "Crows")]
    for team, captain in teams:
        enter(event, team, captain)
        approve(organiser, make_claim(captain, quest, team=team, submit=True))
    board = services.scoreboard(db.session, event)
    # 100 -> 25 over 5 decays: after 3 solves 100 - 75 * 4 / 25 = 88, held by all three
    assert [(r.name, r.points) for r in board.rows] == [("Ants", 88), ("Bees", 88), ("Crows", 88)]


# --- the scoreboard ----------------------------------------------------------------------------------

def test_only_registered_entries_count_and_ties_go_to_who_got_there_first(app, ctx):
    organiser = make_organiser()
    event = make_event(organiser)
    q1, q2 = add_quests(organiser, event, 2)
    ants, ants_cap = team_of(1, "Ants")
    bees, bees_cap = team_of(1, "Bees")
    enter(event, bees, bees_cap)
    enter(event, ants, ants_cap)
    outside = make_quest(organiser, mode="team", title="Not in the jam")
    approve(organiser, make_claim(bees_cap, q2, team=bees, submit=True))
    approve(organiser, make_claim(ants_cap, q1, team=ants, submit=True))
    approve(organiser, make_claim(ants_cap, outside, team=ants, submit=True))  # not an event quest
    board = services.scoreboard(db.session, event)
    assert [(r.rank, r.name, r.points, r.solved) for r in board.rows] == [
        (1, "Bees", 100, (q2.id,)), (2, "Ants", 100, (q1.id,))]
    ranked = current_app.extensions["fixquest.leaderboard"].top("teams", scope=Scope("event", event.id))
    assert [(s.name, s.points) for s in ranked] == [("Bees", 100), ("Ants", 100)]


def test_a_reversed_claim_leaves_the_board_and_is_published(app, ctx):
    import live

    organiser = make_organiser()
    event = make_event(organiser)
    quest, = add_quests(organiser, event, 1)
    team, captain = team_of(1, "Ants")
    enter(event, team, captain)
    claim = approve(organiser, make_claim(captain, quest, team=team, submit=True))
    before = live.hub().last_id(services.public_topic(event.id))
    reviews.reverse_claim(db.session, actor=organiser, claim=claim, reason="Photos were of another street.")
    db.session.commit()
    state = json.loads(live.hub().since(services.public_topic(event.id), before)[-1].data)
    assert state["rows"][0]["points"] == 0 and state["rows"][0]["solved"] == []


def test_approving_a_quest_in_no_event_publishes_no_board(app, ctx, monkeypatch):
    published = []
    monkeypatch.setattr(services.live, "publish", lambda session, topic, *args: published.append(topic))
    organiser = make_organiser()
    quest = make_quest(organiser)
    claim = make_claim(make_user(), quest, submit=True)
    with counting(db.engine) as statements:
        approve(organiser, claim)
    assert sum("event_quests" in s for s in statements) == 1  # the hook's one cheap look-up
    assert published == []


def test_the_public_stream_starts_with_the_public_board(app, client):
    organiser = make_organiser()
    event = make_event(organiser, freeze_at=utcnow() + timedelta(minutes=30))
    team, captain = team_of(1, "Ants")
    enter(event, team, captain)
    response = client.get(f"/events/{event.id}/scoreboard/stream")
    assert response.mimetype == "text/event-stream"
    _, first = read_blocks(response, 2)
    response.close()
    data = json.loads(first.split("data: ", 1)[1])
    assert first.startswith("id: ") and "event: state" in first
    assert data["view"] == "live" and data["rows"][0]["name"] == "Ants"


def test_only_organisers_get_the_live_stream(client, login):
    organiser = make_organiser()
    event = make_event(organiser, freeze_at=utcnow() + timedelta(minutes=30))
    assert client.get(f"/events/{event.id}/scoreboard/live").status_code == 403
    login(make_user())
    assert client.get(f"/events/{event.id}/scoreboard/live").status_code == 403
    login(organiser)
    response = client.get(f"/events/{event.id}/scoreboard/live")
    _, first = read_blocks(response, 2)
    response.close()
    assert json.loads(first.split("data: ", 1)[1])["event_id"] == event.id


def test_during_a_freeze_the_page_shows_the_frozen_board_to_the_public_only(client, login):
    organiser = make_organiser()
    event = make_event(organiser, freeze_at=utcnow() + timedelta(minutes=30))
    quest, = add_quests(organiser, event, 1)
    team, captain = team_of(1, "Ants")
    enter(event, team, captain)
    set_times(event, freeze_at=utcnow())
    approve(organiser, make_claim(captain, quest, team=team, submit=True))
    public = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "The scoreboard froze at" in public and "<td>Ants</td><td>0</td>" in public
    login(organiser)
    organiser_page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Live board (organisers only)" in organiser_page and "<td>Ants</td><td>100</td>" in organiser_page
    assert f'data-stream="/events/{event.id}/scoreboard/live"' in organiser_page


def test_children_and_hidden_people_are_never_named_on_public_pages(client, login):
    organiser = make_organiser()
    event = make_event(organiser, mode="solo")
    child, hidden, adult = make_user(name="Kid Kim"), make_user(name="Quiet Quinn"), make_user(name="Adult Ada")
    child.is_child = True
    hidden.hidden_from_boards = True
    db.session.commit()
    for person in (child, hidden, adult):
        services.register(db.session, actor=person, event=event)
    db.session.commit()
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    board = client.get(f"/events/{event.id}/scoreboard.json").get_data(as_text=True)
    for text in (page, board):
        assert "Adult Ada" in text and "Kid Kim" not in text and "Quiet Quinn" not in text


def test_a_team_with_a_child_is_shown_by_its_name_only(client):
    organiser = make_organiser()
    event = make_event(organiser)
    kid = make_user(name="Kid Kim")
    kid.is_child = True
    db.session.commit()
    team = make_team(make_organiser(name="Teacher Tess"), name="Class 5B", members=(kid,))
    adults = make_team(make_user(name="Adult Ada"), name="Grown-ups")
    for entrant in (team, adults):
        services.register(db.session, actor=organiser, event=event, team_id=entrant.id)
    db.session.commit()
    set_times(event, ends_at=utcnow())
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Class 5B" in page and "Kid Kim" not in page and "Teacher Tess" not in page and "Adult Ada" in page
    entry = db.session.scalar(select(EventEntry).where(EventEntry.team_id == team.id))
    certificate = client.get(f"/events/{event.id}/certificate/{entry.id}").get_data(as_text=True)
    assert "Class 5B" in certificate and "Kid Kim" not in certificate and "Teacher Tess" not in certificate


def test_a_childs_solo_certificate_names_them_only_to_themself_and_their_teacher(client, login):
    organiser = make_organiser(name="Organiser Olu")
    event = make_event(organiser, mode="solo")
    kid = make_user(name="Kid Kim")
    kid.is_child = True
    db.session.commit()
    teacher = make_organiser(name="Teacher Tess")
    make_team(teacher, name="Class 5B", members=(kid,))
    services.register(db.session, actor=kid, event=event)
    db.session.commit()
    set_times(event, ends_at=utcnow())
    entry = db.session.scalar(select(EventEntry).where(EventEntry.user_id == kid.id))
    path = f"/events/{event.id}/certificate/{entry.id}"
    assert client.get(path).status_code == 404  # never on the public board, so no public certificate
    for viewer, named in ((organiser, False), (teacher, True), (kid, True)):
        login(viewer)
        page = client.get(path).get_data(as_text=True)
        assert ("Kid Kim" in page) is named, viewer.display_name
        assert named or "a pupil" in page


# --- results, certificates, the CLI ---------------------------------------------------------------

def test_results_and_certificates_wait_for_the_end(client):
    organiser = make_organiser()
    event = make_event(organiser)
    team, captain = team_of(2, "Ants")
    entry = enter(event, team, captain)
    assert client.get(f"/events/{event.id}/certificate/{entry.id}").status_code == 404
    response = client.get(f"/events/{event.id}/results", follow_redirects=True)
    assert "The results are revealed when the event ends." in response.get_data(as_text=True)
    assert db.session.get(Event, event.id).finalised_at is None


def test_a_certificate_prints_the_entry_its_place_and_points(client):
    organiser = make_organiser()
    event = make_event(organiser)
    quest, = add_quests(organiser, event, 1)
    team, captain = team_of(2, "Ants")
    entry = enter(event, team, captain)
    approve(organiser, make_claim(captain, quest, team=team, submit=True))
    set_times(event, ends_at=utcnow())
    page = client.get(f"/events/{event.id}/certificate/{entry.id}").get_data(as_text=True)
    assert "Ants" in page and "Ants captain" in page and "Place 1 of 1 · 100 points · 1 quest solved" in page
    assert "certificate.css" in page
    assert client.get(f"/events/{event.id}/certificate/{entry.id + 99}").status_code == 404


def test_the_finalise_command_reveals_results_once(app, runner, ctx):
    organiser = make_organiser()
    event = make_event(organiser)
    quest, = add_quests(organiser, event, 1)
    team, captain = team_of(2, "Ants")
    enter(event, team, captain)
    approve(organiser, make_claim(captain, quest, team=team, submit=True))
    set_times(event, ends_at=utcnow())
    first = runner.invoke(args=["events", "finalise"])
    assert f"Finalised event {event.id}" in first.output
    jam_badges = select(func.count()).select_from(BadgeAward).where(BadgeAward.code.like("jam-%"))
    assert db.session.scalar(jam_badges) == 4  # finisher and podium for both members
    again = runner.invoke(args=["events", "finalise"])
    assert "No event was waiting" in again.output and db.session.scalar(jam_badges) == 4


def test_badge_pictures_exist_with_titles(app):
    import os

    for code in ("jam-finisher", "jam-podium"):
        path = os.path.join(app.static_folder, "badges", f"{code}.svg")
        with open(path, encoding="utf-8") as svg:
            text = svg.read()
        assert "<title" in text and "<script" not in text


# --- calendar ------------------------------------------------------------------------------------

def test_the_calendar_file_follows_rfc_5545(client):
    organiser = make_organiser()
    event = make_event(organiser, title="Jam; with, punctuation", place="Hall 2, Easton; back door",
                       description="Line one\nLine two " + "long " * 30)
    response = client.get(f"/events/{event.id}.ics")
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")
    lines = body.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    unfolded = body.replace("\r\n ", "")
    assert f"UID:event-{event.id}@localhost" in unfolded
    assert f"DTSTART:{event.starts_at:%Y%m%dT%H%M%S}Z" in unfolded and f"DTEND:{event.ends_at:%Y%m%dT%H%M%S}Z" in unfolded
    assert "SUMMARY:Jam\\; with\\, punctuation" in unfolded
    assert "LOCATION:Hall 2\\, Easton\\; back door" in unfolded
    assert "DESCRIPTION:Line one\\nLine two long" in unfolded
    assert f"URL:http://localhost/events/{event.id}" in unfolded and "DTSTAMP:" in unfolded
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert f'href="/events/{event.id}.ics">Add to calendar' in page


def test_folding_never_splits_a_character():
    line = "DESCRIPTION:" + "é" * 80
    folded = ical.fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


# --- pages -----------------------------------------------------------------------------------

def test_the_events_page_lists_running_upcoming_and_past_events(client):
    organiser = make_organiser()
    now = utcnow()
    make_event(organiser, title="Running jam")
    make_event(organiser, title="Future jam", starts_at=now + timedelta(days=2), ends_at=now + timedelta(days=2, hours=3))
    make_event(organiser, title="Old jam", starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1),
               registration_opens_at=now - timedelta(days=3), registration_closes_at=now - timedelta(days=2))
    text = client.get("/events").get_data(as_text=True)
    assert text.index("Happening now") < text.index("Running jam") < text.index("Coming up") < \
        text.index("Future jam") < text.index("Past events") < text.index("Old jam")


def test_the_event_page_reads_a_fixed_number_of_queries(client):
    organiser = make_organiser()
    event = make_event(organiser)
    quests = add_quests(organiser, event, 2)

    def page_queries() -> int:
        with counting(db.engine) as statements:
            assert client.get(f"/events/{event.id}").status_code == 200
        return len(statements)

    team, captain = team_of(2, "Team 0")
    enter(event, team, captain)
    approve(organiser, make_claim(captain, quests[0], team=team, submit=True))
    few = page_queries()
    for n in range(1, 6):
        team, captain = team_of(2, f"Team {n}")
        enter(event, team, captain)
        approve(organiser, make_claim(captain, quests[n % 2], team=team, submit=True))
    assert page_queries() == few


def test_the_public_page_tells_the_script_when_the_board_freezes(client, login):
    organiser = make_organiser()
    event = make_event(organiser, freeze_at=utcnow() + timedelta(minutes=30))
    public = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert f'data-stream="/events/{event.id}/scoreboard/stream"' in public and "data-freeze-at=" in public
    assert "js/event-board.js" in public
    login(organiser)
    assert "data-freeze-at=" not in client.get(f"/events/{event.id}").get_data(as_text=True)


def test_the_mode_stays_once_an_event_has_entries(app, ctx):
    organiser = make_organiser()
    start = utcnow() + timedelta(days=1)
    fields = event_fields(starts_at=start, ends_at=start + timedelta(hours=4), registration_closes_at=start)
    event = make_event(organiser, **fields)
    team, captain = team_of(1, "Ants")
    enter(event, team, captain)
    with pytest.raises(ValidationFailed) as refused:
        services.update_event(db.session, actor=organiser, event=event, hide_quests_until_start=False,
                              dynamic_scoring=False, **{**fields, "mode": "solo"})
    assert refused.value.fields["mode"] == ["This event has entries or quests: its mode can no longer change."]


@pytest.mark.parametrize("path, data", [
    ("/events/{id}/quests", {"quest_id": "abc"}),
    ("/events/{id}/quests", {"quest_id": "99999"}),
    ("/events/{id}/quests", {}),
    ("/events/{id}/register", {"team_id": "not-a-team"}),
    ("/events/{id}/register", {"team_id": "424242"}),
    ("/events/{id}/organisers", {"user_id": ""}),
    ("/events/{id}/edit", {"title": "x", "starts_at": "tomorrow", "mode": "both", "min_team_size": "two",
                           "lat": "north"}),
])
def test_malformed_posts_get_messages_not_errors(client, login, path, data):
    organiser = make_organiser()
    event = make_event(organiser)
    login(organiser)
    response = client.post(path.format(id=event.id), data=data)
    assert response.status_code in (302, 404, 422)
    assert count(EventQuest) == 0 and count(EventEntry) == 0 and count(EventOrganiser) == 0
    assert db.session.get(Event, event.id).title == "Easton Jam"


def test_the_page_says_when_registration_is_closed(client, login):
    now = utcnow()
    event = make_event(make_organiser(), registration_opens_at=now - timedelta(days=3),
                       registration_closes_at=now - timedelta(days=1))
    login(make_user())
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert "Registration closed at" in page and "Register this team" not in page
