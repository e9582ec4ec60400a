"""The notifications page, the header's unread count and marking as read."""
from __future__ import annotations

import re

from sqlalchemy import event

from extensions import db
from notifications.services import fan_out
from tests.factories import make_organiser, make_user
from tests.notifications.helpers import add_problem, add_update, follow, rows


def _notify(organiser, ann, n: int, *, title="Pothole on Broad Street"):
    problem = add_problem(organiser, title=title)
    follow(ann, problem, delivery="in_app")
    for i in range(n):
        entry = add_update(problem, organiser, kind="comment", body=f"Update number {i}", publish_it=False)
        fan_out(db.session, update_id=entry.id)
    db.session.commit()


def _unread_in_header(html: str) -> int:
    return int(re.search(r"Notifications \((\d+)\)", html).group(1))


def test_the_page_lists_newest_first_with_what_changed_and_a_link(client, login):
    organiser, ann = make_organiser(), make_user()
    _notify(organiser, ann, 1, title="Broken bench")
    _notify(organiser, ann, 1, title="Dark lamp post")
    login(ann)

    page = client.get("/notifications")

    assert page.status_code == 200
    assert page.text.index("New update on Dark lamp post") < page.text.index("New update on Broken bench")
    assert "Update number 0" in page.text and 'href="/problems/' in page.text
    assert _unread_in_header(page.text) == 2


def test_marking_one_then_all_as_read_updates_the_count(client, login):
    organiser, ann = make_organiser(), make_user()
    _notify(organiser, ann, 3)
    login(ann)
    first = rows(channel="in_app")[0]

    client.post(f"/notifications/{first.id}/read", data={"next": "/notifications"})
    assert _unread_in_header(client.get("/").text) == 2
    answer = client.post("/notifications/read-all", data={"next": "/notifications"})

    assert answer.status_code == 302 and answer.headers["Location"] == "/notifications"
    assert _unread_in_header(client.get("/notifications").text) == 0
    assert all(n.read_at is not None for n in rows(channel="in_app"))


def test_nobody_marks_another_persons_notification(client, login):
    organiser, ann = make_organiser(), make_user()
    _notify(organiser, ann, 1)
    login(make_user())
    assert client.post(f"/notifications/{rows()[0].id}/read", data={}).status_code == 404
    assert rows()[0].read_at is None


def test_the_page_needs_a_login(client):
    answer = client.get("/notifications")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_page_is_paginated(client, login, app):
    organiser, ann = make_organiser(), make_user()
    _notify(organiser, ann, app.config["PAGE_SIZE"] + 3)
    login(ann)
    first, second = client.get("/notifications"), client.get("/notifications?page=2")
    assert first.text.count("Update number") == app.config["PAGE_SIZE"]
    assert second.text.count("Update number") == 3


def _queries(client, url: str) -> int:
    seen = []
    listener = lambda *args: seen.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_the_page_makes_the_same_few_queries_however_many_notifications(client, login):
    organiser, ann = make_organiser(), make_user()
    _notify(organiser, ann, 2)
    login(ann)
    few = _queries(client, "/notifications")
    for n in range(6):
        _notify(organiser, ann, 2, title=f"Problem {n}")
    assert _queries(client, "/notifications") == few <= 6
