"""Reporting problems, the public list and history, and status changes."""
from __future__ import annotations

from sqlalchemy import func, select

from challenges.models import Problem, ProblemUpdate
from extensions import db
from tests.factories import make_organiser, make_problem, make_user

GOOD = {"title": "Broken bench in Queen Square", "description": "The slats are snapped.",
        "category": "other", "lat": "51.4505", "lon": "-2.5945", "address": "Queen Square"}


def test_report_a_problem_through_the_form(client, login):
    reporter = make_user()
    login(reporter)
    response = client.post("/problems/new", data=GOOD)
    problem = db.session.scalar(select(Problem))
    assert response.status_code == 302 and response.headers["Location"] == f"/problems/{problem.id}"
    assert (problem.lat, problem.lon, problem.status, problem.reporter_id) == (51.4505, -2.5945, "open", reporter.id)
    page = client.get(f"/problems/{problem.id}").get_data(as_text=True)
    assert "Broken bench in Queen Square" in page and "reported by" in page


def test_out_of_range_coordinates_are_explained_and_nothing_is_saved(client, login):
    login(make_user())
    response = client.post("/problems/new", data={**GOOD, "lat": "95", "lon": "east"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="lon-error"' in page and "Enter a number" in page
    response = client.post("/problems/new", data={**GOOD, "lat": "95"})
    assert 'id="lat-error"' in response.get_data(as_text=True)
    assert "Latitude must be between -90 and 90" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Problem)) == 0


def test_missing_and_overlong_fields_are_named(client, login):
    login(make_user())
    response = client.post("/problems/new", data={**GOOD, "title": "", "description": "x" * 5001,
                                                  "category": "volcano"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("title", "description", "category"):
        assert f'id="{field}-error"' in page
    assert db.session.scalar(select(func.count()).select_from(Problem)) == 0


def test_list_is_newest_first_paginated_and_filtered(app, client):
    reporter = make_user()
    for i in range(app.config["PAGE_SIZE"] + 3):
        make_problem(reporter, title=f"Problem number {i:02d}", category="litter" if i % 2 else "graffiti")
    first = client.get("/problems").get_data(as_text=True)
    assert first.index("Problem number 22") < first.index("Problem number 21")
    assert "Problem number 02" not in first
    assert "Problem number 02" in client.get("/problems?page=2").get_data(as_text=True)
    litter = client.get("/problems?category=litter").get_data(as_text=True)
    assert "Problem number 21" in litter and "Problem number 20" not in litter
    assert client.get("/problems?status=fixed").get_data(as_text=True).count("Problem number") == 0
    assert client.get("/problems?page=99").status_code == 404
    assert client.get("/problems?category=nonsense").status_code == 200


def test_organiser_changes_status_into_the_public_history(client, login):
    organiser = make_organiser(name="Council Cat")
    problem = make_problem(make_user())
    login(organiser)
    client.post(f"/problems/{problem.id}/status", data={"status": "in_progress", "note": "Crew booked for Monday."})
    db.session.expire_all()
    assert db.session.get(Problem, problem.id).status == "in_progress"
    history = db.session.scalars(select(ProblemUpdate).where(ProblemUpdate.problem_id == problem.id)
                                 .order_by(ProblemUpdate.id)).all()
    assert [(h.kind, h.old_status, h.new_status) for h in history] == [("reported", None, "open"),
                                                                      ("status", "open", "in_progress")]
    page = client.get(f"/problems/{problem.id}").get_data(as_text=True)
    assert "Crew booked for Monday." in page and "Council Cat" in page


def test_participants_cannot_change_status(client, login):
    problem = make_problem(make_user())
    login(make_user())
    response = client.post(f"/problems/{problem.id}/status", data={"status": "fixed"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Problem, problem.id).status == "open"


def test_unknown_problem_is_404(client, login):
    assert client.get("/problems/999").status_code == 404
    login(make_organiser())
    assert client.post("/problems/999/status", data={"status": "fixed"}).status_code == 404


def test_absurd_ids_are_404_not_500(client):
    assert client.get("/problems/99999999999999999999999").status_code == 404
    assert client.get("/quests/99999999999999999999999").status_code == 404


def test_nul_characters_are_refused_beside_the_field(client, login):
    login(make_user())
    response = client.post("/problems/new", data={**GOOD, "title": "Bin\x00 overflowing"})
    assert response.status_code == 422
    assert 'id="title-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Problem)) == 0


def test_a_system_account_changes_status_only_of_problems_it_reported(ctx):
    import pytest

    from accounts.models import SYSTEM_ROLE
    from challenges.services import change_status
    from errors import Forbidden

    source = make_user()
    source.role = SYSTEM_ROLE  # e.g. an Open311 source that imported problems
    db.session.commit()
    own, other = make_problem(source), make_problem(make_user())
    change_status(db.session, actor=source, problem=own, status="closed", note="Closed at the source")
    with pytest.raises(Forbidden):
        change_status(db.session, actor=source, problem=other, status="closed")
