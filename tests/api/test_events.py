"""Events through the API: the list, the event (secret quests stay secret), entries (no
child or hidden solo entrant), the scoreboard (frozen for the public) and registering."""
from __future__ import annotations

from datetime import timedelta

from extensions import db
from tests.api import auth, error_of
from tests.events_helpers import add_quests, enter, make_event, set_times, team_of
from tests.factories import approve, make_claim, make_organiser, make_team, make_user
from timeutil import utcnow


def test_the_event_list_filters_by_phase_and_mode_and_paginates(client):
    organiser = make_organiser()
    now = utcnow()
    running = make_event(organiser, title="Running jam")
    upcoming = make_event(organiser, title="Upcoming jam", mode="solo", starts_at=now + timedelta(days=2),
                          ends_at=now + timedelta(days=3), registration_closes_at=now + timedelta(days=2))
    set_times(make_event(organiser, title="Past jam"), starts_at=now - timedelta(days=3),
              ends_at=now - timedelta(days=2), registration_opens_at=now - timedelta(days=5),
              registration_closes_at=now - timedelta(days=3))
    assert [e["title"] for e in client.get("/api/v1/events?phase=running").get_json()["items"]] == ["Running jam"]
    assert [e["title"] for e in client.get("/api/v1/events?phase=past").get_json()["items"]] == ["Past jam"]
    solo = client.get("/api/v1/events?mode=solo").get_json()["items"]
    assert [(e["id"], e["phase"]) for e in solo] == [(upcoming.id, "upcoming")]
    first = client.get("/api/v1/events?page_size=2").get_json()
    assert first["total"] == 3 and len(first["items"]) == 2
    assert [e["title"] for e in client.get(first["next"]).get_json()["items"]] == ["Past jam"]
    assert client.get(f"/api/v1/events/{running.id}").get_json()["phase"] == "running"


def test_bad_event_filters_are_422(client):
    response = client.get("/api/v1/events?phase=soon&mode=pairs")
    assert response.status_code == 422 and set(error_of(response)["fields"]) == {"phase", "mode"}


def test_secret_quests_stay_secret_until_the_start_except_for_organisers(client):
    organiser = make_organiser()
    now = utcnow()
    event = make_event(organiser, hide_quests_until_start=True, starts_at=now + timedelta(days=1),
                       ends_at=now + timedelta(days=1, hours=3), registration_closes_at=now + timedelta(days=1))
    quest, = add_quests(organiser, event, 1)
    public = client.get(f"/api/v1/events/{event.id}")
    assert public.get_json()["quests"] is None and "Jam quest 1" not in public.get_data(as_text=True)
    assert client.get(f"/api/v1/quests/{quest.id}").status_code == 404
    board = client.get(f"/api/v1/events/{event.id}/scoreboard").get_json()
    assert board["quests"] == []
    shown = client.get(f"/api/v1/events/{event.id}", headers=auth(organiser)).get_json()["quests"]
    assert [q["title"] for q in shown] == ["Jam quest 1"]
    set_times(event, starts_at=now - timedelta(minutes=1))
    assert [q["id"] for q in client.get(f"/api/v1/events/{event.id}").get_json()["quests"]] == [quest.id]


def test_an_unknown_event_is_404_everywhere(client):
    for path in ("", "/entries", "/scoreboard"):
        response = client.get(f"/api/v1/events/999{path}")
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    response = client.post("/api/v1/events/999/registrations", json={}, headers=auth(make_user()))
    assert response.status_code == 404


def test_children_and_hidden_solo_entrants_are_not_listed_and_teams_with_children_show_no_names(client):
    organiser = make_organiser()
    solo = make_event(organiser, mode="solo")
    child, hidden, adult = make_user(name="Kid Kim"), make_user(name="Quiet Quinn"), make_user(name="Adult Ada")
    for person in (child, hidden, adult):
        client.post(f"/api/v1/events/{solo.id}/registrations", headers=auth(person))
    child.is_child, hidden.hidden_from_boards = True, True
    db.session.commit()
    response = client.get(f"/api/v1/events/{solo.id}/entries")
    assert [e["name"] for e in response.get_json()["items"]] == ["Adult Ada"]
    assert client.get(f"/api/v1/events/{solo.id}").get_json()["entries_count"] == 1
    text = response.get_data(as_text=True) + client.get(f"/api/v1/events/{solo.id}/scoreboard").get_data(as_text=True)
    assert "Kim" not in text and "Quinn" not in text
    as_organiser = client.get(f"/api/v1/events/{solo.id}/entries", headers=auth(organiser)).get_json()
    assert as_organiser["total"] == 3
    names = sorted(e["name"] for e in as_organiser["items"])  # a child is "a pupil" even to organisers, as on the page
    assert names == ["Adult Ada", "Quiet Quinn", "a pupil"]
    team_event = make_event(organiser)
    team, captain = team_of(2, "Otters")
    enter(team_event, team, captain)
    [entry] = client.get(f"/api/v1/events/{team_event.id}/entries").get_json()["items"]
    assert entry["name"] == "Otters" and entry["members"] == ["Otters captain", "Otters member 0"]


def test_during_a_freeze_the_public_scoreboard_is_frozen_and_organisers_see_it_live(client):
    organiser = make_organiser()
    event = make_event(organiser, freeze_at=utcnow() + timedelta(minutes=30))
    quest, = add_quests(organiser, event, 1)
    team, captain = team_of(1, "Ants")
    enter(event, team, captain)
    set_times(event, freeze_at=utcnow())
    approve(organiser, make_claim(captain, quest, team=team, submit=True))
    public = client.get(f"/api/v1/events/{event.id}/scoreboard").get_json()
    assert public["view"] == "frozen" and public["as_of"] is not None
    assert [(r["name"], r["points"]) for r in public["items"]] == [("Ants", 0)]
    live = client.get(f"/api/v1/events/{event.id}/scoreboard", headers=auth(organiser)).get_json()
    assert live["view"] == "live" and [(r["name"], r["points"]) for r in live["items"]] == [("Ants", 100)]
    assert client.get(f"/api/v1/events/{event.id}/scoreboard", headers=auth(captain)).get_json()["view"] == "frozen"


def test_the_scoreboard_paginates(client):
    organiser = make_organiser()
    event = make_event(organiser)
    for name in ("Ants", "Bees", "Crows"):
        team, captain = team_of(1, name)
        enter(event, team, captain)
    first = client.get(f"/api/v1/events/{event.id}/scoreboard?page_size=2").get_json()
    assert len(first["items"]) == 2 and first["total"] == 3 and first["phase"] == "running"
    assert len(client.get(first["next"]).get_json()["items"]) == 1


def test_a_captain_registers_their_team(client):
    organiser = make_organiser()
    event = make_event(organiser)
    team, captain = team_of(2, "Badgers")
    response = client.post(f"/api/v1/events/{event.id}/registrations", json={"team_id": team.id},
                           headers=auth(captain))
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "Badgers" and body["team_id"] == team.id and body["event_id"] == event.id
    assert client.get(f"/api/v1/events/{event.id}", headers=auth(captain)).get_json()["my_entry_id"] == body["id"]
    again = client.post(f"/api/v1/events/{event.id}/registrations", json={"team_id": team.id}, headers=auth(captain))
    assert again.status_code == 409


def test_registration_refusals(client):
    organiser = make_organiser()
    event = make_event(organiser)
    team, captain = team_of(2, "Badgers")
    member = make_user()
    other_team = make_team(member)
    url = f"/api/v1/events/{event.id}/registrations"
    assert client.post(url, json={"team_id": team.id}).status_code == 401
    not_captain = client.post(url, json={"team_id": team.id}, headers=auth(member))
    assert not_captain.status_code == 403
    missing = client.post(url, json={}, headers=auth(captain))
    assert missing.status_code == 422 and list(error_of(missing)["fields"]) == ["team_id"]
    wrong_type = client.post(url, json={"team_id": "Badgers"}, headers=auth(captain))
    assert wrong_type.status_code == 422 and list(error_of(wrong_type)["fields"]) == ["team_id"]
    set_times(event, registration_closes_at=utcnow() - timedelta(minutes=1))
    closed = client.post(url, json={"team_id": other_team.id}, headers=auth(member))
    assert closed.status_code == 409
    late = client.post(url, json={"team_id": team.id}, headers=auth(organiser))  # organisers: outside the window
    assert late.status_code == 201
