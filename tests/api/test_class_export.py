"""A teacher's class export through the API (GET /api/v1/classes/<id>/export.csv): the same
CSV as the dashboard's download, through the same service, for the class's teacher only
(anyone else gets what an unknown class gets), never cached."""
from __future__ import annotations

import csv
import io

from sqlalchemy import select

from accounts.models import User
from classes import services as classes
from extensions import db
from tests.api import auth, error_of
from tests.api.test_classes_write import read_auth
from tests.factories import approve, make_claim, make_organiser, make_quest, make_user
from tests.test_classes import create_class


def class_with_work(app):
    """A class of two whose first child's approved claim has evidence a spreadsheet would run."""
    teacher = make_organiser()
    teacher_client, school_class, cards, _ = create_class(app, teacher, size=2)
    child = db.session.scalar(select(User).where(User.display_name == cards[0]["name"]))
    approve(teacher, make_claim(child, make_quest(make_organiser(), title="Bench repaint", points=20), submit=True,
                                evidence="=HYPERLINK(\"http://evil\")"))
    return teacher, teacher_client, school_class, cards


def test_the_teacher_downloads_the_dashboards_csv_with_a_read_token(app, client):
    teacher, teacher_client, school_class, cards = class_with_work(app)
    response = client.get(f"/api/v1/classes/{school_class.id}/export.csv", headers=read_auth(teacher))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "no-store" in response.headers["Cache-Control"] and "public" not in response.headers["Cache-Control"]
    assert response.headers["Content-Disposition"] == f'attachment; filename="class-{school_class.id}-work.csv"'
    text = response.get_data(as_text=True)
    assert text == teacher_client.get(f"/classes/{school_class.id}/export.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(classes.EXPORT_COLUMNS)
    assert rows[1][:5] == [cards[0]["name"], cards[0]["name"], "Bench repaint", "no", "approved"]
    assert rows[1][8] == "20" and rows[1][9] == "'=HYPERLINK(\"http://evil\")"  # a safe cell, not a formula
    assert len(rows) == 2 and cards[0]["password"] not in text and cards[1]["password"] not in text


def test_nobody_but_the_teacher_gets_the_export_or_learns_the_class_exists(app, client):
    teacher, _, school_class, cards = class_with_work(app)
    url = f"/api/v1/classes/{school_class.id}/export.csv"
    unknown = client.get("/api/v1/classes/999999/export.csv", headers=auth(teacher))
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "not_found"
    for someone in (make_organiser(), make_user(role="admin"), make_user()):
        refused = client.get(url, headers=auth(someone))
        assert refused.status_code == 404 and error_of(refused) == {
            **error_of(unknown), "message": error_of(unknown)["message"].replace("999999", str(school_class.id))}
        assert cards[0]["name"] not in refused.get_data(as_text=True)
    anonymous = client.get(url)
    assert anonymous.status_code == 401 and error_of(anonymous)["code"] == "not_authenticated"
    assert cards[0]["name"] not in anonymous.get_data(as_text=True)
