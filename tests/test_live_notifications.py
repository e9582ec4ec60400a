"""A person's notifications, live: GET /notifications/stream, what it sends and to whom,
the publishes after fan-out and reading, and no database connection held while it waits."""
from __future__ import annotations

import json
import threading

import pytest

import live
from accounts.models import User
from extensions import db
from live.hub import LocalHub
from notifications import live_inbox
from notifications.services import fan_out
from tests.factories import make_organiser, make_user
from tests.notifications.helpers import add_problem, add_update, drain, follow, rows
from tests.querycount import counting
from tests.sse import event_data, read_blocks, ready, wait_for


def _notify(organiser, person, n: int, *, title="Pothole on Broad Street"):
    problem = add_problem(organiser, title=title)
    follow(person, problem, delivery="in_app")
    for i in range(n):
        entry = add_update(problem, organiser, kind="comment", body=f"Update number {i}", publish_it=False)
        fan_out(db.session, update_id=entry.id)
    db.session.commit()
    return problem


def _client_of(app, user):
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
    return client


def test_the_stream_needs_a_login(client):
    response = client.get("/notifications/stream")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_first_event_is_your_own_unread_count_and_newest_notifications(app, ctx):
    organiser, ann, bob = make_organiser(), make_user(), make_user()
    problem = _notify(organiser, ann, 2, title="Dark lamp post")
    response = _client_of(app, ann).get(f"/notifications/stream?user={bob.id}")  # the URL cannot pick a person
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    _, first = read_blocks(response, 2)
    response.close()
    state = event_data(first)
    assert state["unread"] == 2
    assert [item["title"] for item in state["latest"]] == ["New update on Dark lamp post"] * 2
    assert state["latest"][0]["url"] == f"/problems/{problem.id}" and state["latest"][0]["unread"] is True
    assert "@" not in first and organiser.display_name not in first  # no emails, no authors

    response = _client_of(app, bob).get(f"/notifications/stream?user={ann.id}")
    _, first = read_blocks(response, 2)
    response.close()
    assert event_data(first) == {"unread": 0, "latest": []}


@pytest.fixture
def hub(app, monkeypatch):
    """A hub of this test's own: which topics are watched does not carry over from others."""
    fresh = LocalHub()
    monkeypatch.setitem(app.extensions, "fixquest.live", fresh)
    return fresh


def test_a_fan_out_publishes_the_new_state_of_each_recipient_with_a_stream_open(app, ctx, hub):
    organiser, ann, bob, carol = make_organiser(), make_user(), make_user(), make_user()
    problem = add_problem(organiser, title="Broken bench")
    for person, delivery in ((ann, "in_app"), (bob, "immediate"), (carol, "in_app")):
        follow(person, problem, delivery=delivery)
    for person in (ann, bob, organiser):
        hub.watch(live_inbox.topic(person.id), 60)  # as their open streams do
    add_update(problem, organiser, kind="comment", body="Fixed it")
    drain(app)  # the fan-out job, on whichever queue this app has
    for person in (ann, bob):
        [event] = hub.since(live_inbox.topic(person.id), 0)
        assert json.loads(event.data)["unread"] == 1
    assert hub.last_id(live_inbox.topic(carol.id)) == 0  # offline: nothing built, nothing sent
    assert hub.last_id(live_inbox.topic(organiser.id)) == 0  # the author is told nothing


def test_reading_publishes_the_lower_count(app, ctx, client, login, hub):
    organiser, ann = make_organiser(), make_user()
    _notify(organiser, ann, 3)
    topic = live_inbox.topic(ann.id)
    hub.watch(topic, 60)
    login(ann)
    first = rows(user_id=ann.id)[0]
    client.post(f"/notifications/{first.id}/read", data={})
    [event] = hub.since(topic, 0)
    assert json.loads(event.data)["unread"] == 2
    client.post("/notifications/read-all", data={})
    assert json.loads(hub.since(topic, event.id)[-1].data)["unread"] == 0


def test_states_of_many_people_take_two_queries(app, ctx):
    organiser = make_organiser()
    people = [make_user() for _ in range(12)]
    problem = add_problem(organiser)
    for person in people:
        follow(person, problem, delivery="in_app")
    for i in range(7):
        entry = add_update(problem, organiser, kind="comment", body=str(i), publish_it=False)
        fan_out(db.session, update_id=entry.id)
    db.session.commit()
    ids = [p.id for p in people]
    db.session.remove()
    with counting(db.engine) as statements:
        states = live_inbox.states(db.session, ids)
    assert len(statements) == 2
    assert all(s["unread"] == 7 and len(s["latest"]) == live_inbox.LATEST for s in states.values())


@pytest.mark.parametrize("streams", [5])
def test_waiting_streams_hold_no_database_connection(app, ctx, streams):
    ready(live.hub())
    if hasattr(live.hub(), "forget_presence"):
        live.hub().forget_presence()  # the wipe between tests emptied Redis, as a restart would
    organiser = make_organiser()
    people = [make_user() for _ in range(streams)]
    db.session.commit()
    ids = [person.id for person in people] + [organiser.id]
    topics = [live_inbox.topic(user_id) for user_id in ids[:-1]]
    db.session.close()  # the test's own session gives its connection back too
    responses = [_client_of(app, person).get("/notifications/stream") for person in people]
    got: list[list[str]] = []
    readers = [threading.Thread(target=lambda r=r: got.append(read_blocks(r, 3))) for r in responses]
    for reader in readers:
        reader.start()
    hub = live.hub()
    wait_for(lambda: sum(hub.waiting(topic) for topic in topics) == streams)
    assert db.engine.pool.checkedout() == 0  # five streams open, not one connection
    *people, organiser = [db.session.get(User, user_id) for user_id in ids]
    problem = add_problem(organiser)
    for person in people:
        follow(person, problem, delivery="in_app")
    entry = add_update(problem, organiser, kind="comment", body="Now", publish_it=False)
    fan_out(db.session, update_id=entry.id)
    db.session.commit()
    for reader in readers:
        reader.join(5)
    for response in responses:
        response.close()
    assert sorted(event_data(blocks[2])["unread"] for blocks in got) == [1] * streams


def test_pages_name_the_stream_for_the_script_and_still_show_the_count_without_it(app, ctx, client, login):
    organiser, ann = make_organiser(), make_user()
    _notify(organiser, ann, 2)
    anonymous = client.get("/").text
    assert "data-live-notifications" not in anonymous and "/static/js/live.js" in anonymous
    login(ann)
    page = client.get("/problems").text
    assert 'data-live-notifications="/notifications/stream">Notifications (2)</a>' in page
    assert client.get("/static/js/live.js").status_code == 200
