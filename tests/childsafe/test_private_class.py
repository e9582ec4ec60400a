"""A private school class (its teacher has not chosen to show it in public) is not there to
people outside it: not by entering it in someone's event, not by a join request at its id,
not in an integrity alert's wording. And only a pupil or their teacher enters a pupil in a
solo event."""
from __future__ import annotations

from sqlalchemy import select

from events.models import EventEntry
from extensions import db
from integrity.models import IntegrityAlert
from tests.api import auth, error_of
from tests.childsafe.helpers import make_school_class
from tests.events_helpers import make_event
from tests.factories import make_organiser, make_team, make_user


def entries(event) -> list[EventEntry]:
    return list(db.session.scalars(select(EventEntry).where(EventEntry.event_id == event.id)))


def test_only_the_teacher_or_an_admin_enters_a_private_class_in_an_event(client):
    teacher, team, _ = make_school_class(None, "Perpetua Nightingale", team_name="St Mary's Class 5B")
    organiser = make_organiser()
    event = make_event(organiser)
    url = f"/api/v1/events/{event.id}/registrations"
    refused = client.post(url, json={"team_id": team.id}, headers=auth(organiser))
    assert refused.status_code == 422 and "St Mary" not in refused.get_data(as_text=True)
    assert list(error_of(refused)["fields"]) == ["team_id"]  # as for a team that does not exist
    assert entries(event) == []
    assert client.post(url, json={"team_id": team.id}, headers=auth(make_user(role="admin"))).status_code == 201


def test_a_public_class_is_entered_by_an_event_organiser_as_any_team(client):
    teacher, team, _ = make_school_class(None, "Perpetua Nightingale", public=True)
    organiser = make_organiser()
    event = make_event(organiser)
    response = client.post(f"/api/v1/events/{event.id}/registrations", json={"team_id": team.id},
                           headers=auth(organiser))
    assert response.status_code == 201


def test_only_a_pupil_or_their_teacher_enters_the_pupil_in_a_solo_event(client):
    teacher, team, (child,) = make_school_class(None, "Perpetua Nightingale")
    organiser = make_organiser()
    event = make_event(organiser, mode="solo")
    url = f"/api/v1/events/{event.id}/registrations"
    refused = client.post(url, json={"user_id": child.id}, headers=auth(organiser))
    assert refused.status_code == 422 and error_of(refused)["fields"]["user_id"] == ["There is no such person."]
    event_of_teacher = make_event(teacher, mode="solo")
    entered = client.post(f"/api/v1/events/{event_of_teacher.id}/registrations", json={"user_id": child.id},
                          headers=auth(teacher))
    assert entered.status_code == 201


def test_a_join_request_or_invite_at_a_private_classs_id_is_404(client, login):
    teacher, team, _ = make_school_class(None, "Perpetua Nightingale")
    stranger = make_user()
    for path in (f"/api/v1/teams/{team.id}/requests", f"/api/v1/teams/{team.id}/invites",
                 f"/api/v1/teams/{team.id}/leave"):
        assert client.post(path, json={}, headers=auth(stranger)).status_code == 404, path
    login(stranger)
    assert client.post(f"/teams/{team.id}/requests", data={}).status_code == 404
    other = make_team(make_user(), name="Grown-ups")
    assert client.post(f"/teams/{other.id}/requests", data={}).status_code == 302  # an ordinary team takes requests


def test_an_integrity_alert_names_a_private_class_only_to_its_teacher(client):
    teacher, team, _ = make_school_class(None, "Perpetua Nightingale", team_name="St Mary's Class 5B")
    adults = make_team(make_user(), name="Grown-ups")
    db.session.add(IntegrityAlert(kind="teams", key=f"teams:{adults.id}:{team.id}", team_a_id=adults.id,
                                  team_b_id=team.id, approvals=9))
    db.session.commit()
    seen = client.get("/api/v1/integrity/alerts", headers=auth(make_organiser())).get_json()["items"]
    assert [item["teams"] for item in seen] == [["Grown-ups", "a school class"]]
    mine = client.get("/api/v1/integrity/alerts", headers=auth(teacher)).get_json()["items"]
    assert [item["teams"] for item in mine] == [["Grown-ups", "St Mary's Class 5B"]]


def test_the_organise_page_names_a_private_class_in_an_alert_only_to_its_teacher(client, login):
    teacher, team, _ = make_school_class(None, "Perpetua Nightingale", team_name="St Mary's Class 5B")
    adults = make_team(make_user(), name="Grown-ups")
    db.session.add(IntegrityAlert(kind="teams", key=f"teams:{adults.id}:{team.id}", team_a_id=adults.id,
                                  team_b_id=team.id, approvals=9))
    db.session.commit()
    login(make_organiser())
    page = client.get("/organise").get_data(as_text=True)
    assert "Members of Grown-ups and a school class approved" in page and "St Mary" not in page
    login(teacher)
    assert "St Mary&#39;s Class 5B approved" in client.get("/organise").get_data(as_text=True)
