"""Surviving faults inside the app: the database away gives a clean 503 on every surface
(and the app recovers by itself when it is back); Redis away changes nothing a person
notices: pages and the API answer, awards commit, leaderboards come from SQL."""
from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event, func, select

from app import create_app
from extensions import db
from scoring.models import LedgerEntry
from tests.api import auth
from tests.conftest import CsrfClient, app_config
from tests.factories import PASSWORD, make_claim, make_organiser, make_problem, make_quest, make_user

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@contextlib.contextmanager
def database_down(app):
    """Every new connection fails as a stopped server's would; pooled ones are dropped
    (as a server restart drops them)."""
    engine = db.engine
    dbapi = engine.dialect.loaded_dbapi

    def refuse(dialect, record, cargs, cparams):
        raise dbapi.OperationalError("connection refused (simulated outage)")

    db.session.remove()  # the test's own session gives its connection back first
    event.listen(engine, "do_connect", refuse)
    engine.dispose()
    try:
        yield
    finally:
        event.remove(engine, "do_connect", refuse)
        db.session.remove()


@pytest.fixture
def town(ctx):
    user = make_user(name="Olu Outage")
    problem = make_problem(user)
    return {"user": user, "problem": problem, "headers": auth(user)}


def test_pages_say_503_with_a_plain_page_while_the_database_is_down(app, client, login, town):
    login(town["user"])
    email, problem_id = town["user"].email, town["problem"].id
    with database_down(app):
        for path in ("/", "/problems", f"/problems/{problem_id}", "/leaderboards"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert response.headers["Retry-After"] == "5"
            assert "Back in a moment" in response.get_data(as_text=True)
        posted = client.post("/login", data={"email": email, "password": PASSWORD})
        assert posted.status_code == 503


def test_the_api_and_open311_answer_503_in_their_own_shapes(app, client, town):
    with database_down(app):
        api = client.get("/api/v1/problems", headers=town["headers"])
        assert api.status_code == 503 and api.headers["Retry-After"] == "5"
        assert api.get_json()["error"]["code"] == "unavailable"
        assert set(api.get_json()["error"]) == {"code", "message", "fields"}
        written = client.post("/api/v1/problems", headers=town["headers"],
                              json={"title": "Pothole", "description": "Deep.", "category": "pothole",
                                    "lat": 51.45, "lon": -2.58})
        assert written.status_code == 503
        open311 = client.get("/open311/v2/requests.json")
        assert open311.status_code == 503
        assert open311.get_json()[0]["code"] == 503 and "database" in open311.get_json()[0]["description"]
        xml = client.get("/open311/v2/services.xml")
        assert xml.status_code in (200, 503)  # the service list needs no database
    assert client.get("/open311/v2/requests.json").status_code == 200


def test_the_app_recovers_by_itself_when_the_database_is_back(app, client, login, town):
    login(town["user"])
    assert client.get("/problems").status_code == 200
    with database_down(app):
        assert client.get("/problems").status_code == 503
    assert client.get("/problems").status_code == 200  # the same app: no restart
    response = client.post("/api/v1/problems", headers=town["headers"],
                           json={"title": "Broken bench", "description": "Snapped in two.", "category": "other",
                                 "lat": 51.45, "lon": -2.58})
    assert response.status_code == 201


def test_pooled_connections_are_pinged_before_use(app):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping") is True


# --- Redis away ----------------------------------------------------------------------------

@pytest.fixture
def redis_gone_app(app, database_url):
    """A second app on the same database whose Redis is unreachable. It asks for the shared
    `app` so that the tables are wiped after the test, and closes its own connections first
    (an idle pooled connection of a forgotten engine would otherwise outlive the test)."""
    gone = create_app({**app_config(database_url, DEAD_REDIS), "AUTO_MIGRATE": False})
    gone.test_client_class = CsrfClient
    with gone.app_context():
        yield gone
        db.session.remove()
        db.engine.dispose()


def test_with_redis_unreachable_pages_answer_awards_commit_and_boards_come_from_sql(app, redis_gone_app):
    shared, app = app, redis_gone_app
    organiser, player = make_organiser(), make_user(name="Rosa Resilient")
    quest = make_quest(organiser, problem_id=make_problem(make_user()).id)
    claim = make_claim(player, quest, submit=True)
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = organiser.get_id()
        sess["_fresh"] = True
    approved = client.post(f"/claims/{claim.id}/review", data={"decision": "approve", "reason": ""})
    assert approved.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.user_id == player.id)) == 50
    for path in ("/", "/problems", "/leaderboards", "/quests", "/map"):
        assert client.get(path).status_code == 200, path
    assert "Rosa Resilient" in client.get("/leaderboards").get_data(as_text=True)
    board = client.get("/api/v1/leaderboards/participants", headers=auth(player))
    assert board.status_code == 200
    assert any(row["name"] == "Rosa Resilient" and row["points"] == 50 for row in board.get_json()["entries"])
    # Redis "comes back" (the shared app's Redis missed the award): a rebuild repairs the
    # projection and `flask scoring verify` has nothing to report.
    backend = shared.extensions["fixquest.leaderboard"]
    if backend.name == "redis":
        with shared.app_context():
            assert backend.drift() != []  # the award happened while Redis was away
            backend.rebuild()
            assert backend.drift() == []


def test_a_database_lost_after_the_answer_was_made_does_not_turn_it_into_a_500(app, monkeypatch):
    """The fault drill caught it: PostgreSQL restarting between a read's answer and the end of
    its request made the session's closing rollback fail, and gunicorn answered 500."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    real_close, failed = Session.close, []

    def close_on_a_dead_connection(self):
        if not failed:
            failed.append(True)
            raise OperationalError("ROLLBACK", {}, Exception("server closed the connection unexpectedly"))
        return real_close(self)

    monkeypatch.setattr(Session, "close", close_on_a_dead_connection)
    client = app.test_client()  # no app context held open by the test: the request's own ends
    response = client.get("/api/v1/problems")
    assert failed and response.status_code == 200
    assert client.get("/api/v1/problems").status_code == 200  # and the next request is served
