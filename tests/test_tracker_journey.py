"""The open tracker's whole story, as the issue tells it: two people report the same
pothole; the second is shown the first and confirms it instead; both are told by email and
in the app when an organiser marks it fixed; the area feed and the map show it."""
from __future__ import annotations

import feedparser
from sqlalchemy import func, select

from challenges.models import Problem
from extensions import db
from tests.factories import make_organiser, make_user

POTHOLE = {"title": "Deep pothole on Baldwin Street", "description": "A wheel-sized hole by the bus stop.",
           "category": "pothole", "lat": "51.45312", "lon": "-2.59460", "address": "Baldwin Street"}


class RecordingSender:
    name = "recording"

    def __init__(self):
        self.messages = []

    def send(self, message) -> None:
        self.messages.append(message)


def test_two_reports_of_one_pothole_become_one_problem_followed_by_both(app, client, login, runner):
    sender, previous = RecordingSender(), app.extensions["fixquest.mail"]
    app.extensions["fixquest.mail"] = sender
    try:
        first, second = make_user(name="Early Bird", email="early@example.org"), make_user(
            name="Night Owl", email="owl@example.org")
        organiser = make_organiser(name="Highways Hana")

        login(first)
        assert client.post("/problems/new", data=POTHOLE).status_code == 302
        problem = db.session.scalar(select(Problem))

        login(second)
        step = client.post("/problems/new", data={**POTHOLE, "lat": "51.45318", "lon": "-2.59455"})
        assert "Is it one of these?" in step.get_data(as_text=True)
        client.post(f"/problems/{problem.id}/confirm", data={})
        assert db.session.scalar(select(func.count()).select_from(Problem)) == 1

        login(organiser)
        client.post(f"/problems/{problem.id}/status", data={"status": "fixed", "note": "Filled this morning."})
        assert runner.invoke(args=["notifications", "deliver"]).exit_code == 0

        fixed_mail = [m for m in sender.messages if "fixed" in m["Subject"].lower()]
        assert sorted(m["To"] for m in fixed_mail) == ["early@example.org", "owl@example.org"]
        assert all(m["List-Unsubscribe"] for m in fixed_mail)
        for person in (first, second):
            login(person)
            inbox = client.get("/notifications").get_data(as_text=True)
            assert "Deep pothole on Baldwin Street" in inbox and "fixed" in inbox

        area = feedparser.parse(client.get("/feeds/area.atom?lat=51.4531&lon=-2.5946&radius_m=200").data)
        assert [e.title for e in area.entries] == ["Deep pothole on Baldwin Street"]
        assert "Deep pothole on Baldwin Street" in client.get("/map").get_data(as_text=True)
        geojson = client.get("/api/v1/problems.geojson?status=fixed").get_json()
        assert [f["properties"]["id"] for f in geojson["features"]] == [problem.id]
    finally:
        app.extensions["fixquest.mail"] = previous
