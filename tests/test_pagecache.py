"""Visitors' pages kept in memory (pagecache.py): who gets a kept page, what is kept, and
how soon a change shows. The rest of the suite runs with the cache on as well."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import insert

import pagecache
from challenges.geo import cell_of
from challenges.models import Problem
from extensions import db
from i18n import COOKIE as LANGUAGE_COOKIE
from tests.factories import make_organiser, make_problem, make_quest, make_user

MAIN_PAGES = ["/", "/problems", "/api/v1/problems.geojson", "/quests", "/leaderboards", "/map"]


@pytest.fixture
def cache(app):
    found = pagecache.cache_of(app)
    assert found is not None, "the test app runs with the visitors' page cache on"
    return found


@pytest.fixture
def visitor(app, ctx):
    return app.test_client(use_cookies=False)


def add_behind_the_apps_back(title: str, reporter) -> None:
    """A row written as another worker process would: this process's cache hears nothing."""
    with db.engine.begin() as conn:
        conn.execute(insert(Problem).values(title=title, description="Written elsewhere.", category="litter",
                                            status="open", lat=51.45, lon=-2.59, cell=cell_of(51.45, -2.59),
                                            reporter_id=reporter.id))


@pytest.mark.parametrize("path", MAIN_PAGES + ["/problems/{problem}", "/quests/{quest}"])
def test_a_visitors_main_pages_set_no_cookie_and_hold_no_form_token(visitor, cache, path):
    problem = make_problem(make_user(), title="Bench snapped in two")
    quest = make_quest(make_organiser(), title="Mend the bench", problem_id=problem.id)
    response = visitor.get(path.format(problem=problem.id, quest=quest.id))
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers  # no session: nothing to tell this visitor apart
    assert "csrf_token" not in response.text and pagecache.MARK not in response.headers
    again = visitor.get(path.format(problem=problem.id, quest=quest.id))
    assert again.get_data() == response.get_data() and "Age" in again.headers  # served from memory


def test_a_visitor_gets_the_kept_page_until_it_expires(visitor, cache, monkeypatch):
    reporter = make_user()
    make_problem(reporter, title="Graffiti on the bridge")
    assert "Graffiti on the bridge" in visitor.get("/problems").text
    add_behind_the_apps_back("Dumped sofa by the canal", reporter)
    assert "Dumped sofa by the canal" not in visitor.get("/problems").text  # another process's write: not yet
    later = pagecache.time.monotonic() + cache.seconds
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: later)
    assert "Dumped sofa by the canal" in visitor.get("/problems").text  # at most VISITOR_CACHE_SECONDS late


def test_a_write_in_this_process_shows_at_once(visitor, cache):
    reporter = make_user()
    make_problem(reporter, title="Graffiti on the bridge")
    assert "Loose paving slab" not in visitor.get("/problems").text
    make_problem(reporter, title="Loose paving slab")  # committed through the app's session
    assert "Loose paving slab" in visitor.get("/problems").text


def test_a_moderator_hiding_a_problem_takes_it_off_the_kept_pages(app, visitor, cache, client, login):
    reporter = make_user()
    problem = make_problem(reporter, title="Personal details in this report")
    assert "Personal details in this report" in visitor.get("/problems").text
    moderator = make_user(role="admin")
    login(moderator)
    response = client.post(f"/moderate/problem/{problem.id}/hide", data={"reason": "personal data"})
    assert response.status_code == 302
    assert "Personal details in this report" not in visitor.get("/problems").text
    assert "Personal details in this report" not in visitor.get("/api/v1/problems.geojson").text


def test_signed_in_people_are_never_served_a_kept_page_nor_leave_one(visitor, cache, client, login):
    reporter = make_user(name="Priya Reporter")
    make_problem(reporter, title="Graffiti on the bridge")
    login(reporter)
    mine = client.get("/problems")
    assert "Priya Reporter" in mine.text and "Age" not in mine.headers
    assert "Priya Reporter" not in visitor.get("/problems").text  # the signed-in page was not kept
    assert "Age" not in client.get("/problems").headers  # nor a visitor's page served to them


def test_a_bearer_token_or_a_session_cookie_bypasses_the_cache(visitor, cache):
    make_problem(make_user(), title="Graffiti on the bridge")
    visitor.get("/api/v1/problems.geojson")
    assert "Age" in visitor.get("/api/v1/problems.geojson").headers
    assert "Age" not in visitor.get("/api/v1/problems.geojson", headers={"Authorization": "Bearer x"}).headers
    assert "Age" not in visitor.get("/problems", headers={"Cookie": "session=abc"}).headers
    assert "Age" not in visitor.get("/problems", headers={"Cookie": "=;;bad\x7f"}).headers


def test_each_language_gets_its_own_kept_page(visitor, cache):
    english = visitor.get("/quests")
    welsh = visitor.get("/quests", headers={"Cookie": f"{LANGUAGE_COOKIE}=cy"})
    browser_welsh = visitor.get("/quests", headers={"Accept-Language": "cy"})
    assert "Open quests" in english.text and "Cwestau agored" in welsh.text and "Cwestau agored" in browser_welsh.text
    assert "Open quests" in visitor.get("/quests").text
    assert "Cwestau agored" in visitor.get("/quests", headers={"Cookie": f"{LANGUAGE_COOKIE}=cy"}).text


def test_a_kept_answer_honours_if_none_match(visitor, cache):
    make_problem(make_user(), title="Graffiti on the bridge")
    first = visitor.get("/api/v1/problems.geojson")
    etag = first.headers["ETag"]
    again = visitor.get("/api/v1/problems.geojson", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and "Age" in again.headers
    assert again.headers["Access-Control-Allow-Origin"] == "*"  # the kept headers go with it


def test_a_signed_in_person_still_gets_the_forms_a_visitor_is_not_shown(visitor, cache, client, login):
    problem = make_problem(make_user(), title="Graffiti on the bridge")
    quest = make_quest(make_organiser(), title="Paint over it", problem_id=problem.id)
    assert "I see this too" not in visitor.get(f"/problems/{problem.id}").text
    login(make_user())
    assert "I see this too" in client.get(f"/problems/{problem.id}").text
    assert 'action="/quests/%d/claim"' % quest.id in client.get(f"/quests/{quest.id}").text


def test_pages_not_marked_and_failures_are_never_kept(visitor, cache):
    make_problem(make_user(), title="Graffiti on the bridge")
    visitor.get("/events")
    assert "Age" not in visitor.get("/events").headers  # not marked for visitors
    visitor.get("/api/v1/problems.geojson?bbox=nonsense")
    response = visitor.get("/api/v1/problems.geojson?bbox=nonsense")
    assert response.status_code == 400 and "Age" not in response.headers


def test_the_cache_is_off_when_its_lifetime_is_zero():
    from app import create_app

    plain = create_app({"TESTING": True, "VISITOR_CACHE_SECONDS": 0, "AUTO_MIGRATE": False,
                        "SQLALCHEMY_DATABASE_URI": "sqlite://", "REDIS_URL": None,
                        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-production"})
    assert pagecache.cache_of(plain) is None and not isinstance(plain.wsgi_app, pagecache.VisitorPageCache)


# --- the middleware on its own ----------------------------------------------------------------


def tiny_app(**cache_settings) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x" * 40, VISITOR_CACHE_SECONDS=cache_settings.pop("seconds", 10))
    app.config.update({f"VISITOR_CACHE_{name.upper()}": value for name, value in cache_settings.items()})
    calls = app.config["CALLS"] = []

    @app.get("/page/<name>")
    @pagecache.for_visitors
    def page(name):
        calls.append(name)
        response = app.response_class(f"page {name} #{len(calls)}")
        if name == "cookie":
            response.set_cookie("flavour", "oat")
        if name == "private":
            response.headers["Cache-Control"] = "private"
        if name == "big":
            response.set_data(b"x" * 100)
        return response

    @app.get("/plain")
    def plain():
        calls.append("plain")
        return "plain"

    from flask_login import LoginManager
    LoginManager(app).user_loader(lambda user_id: None)
    pagecache.init_app(app)
    return app


def test_only_marked_pages_answered_200_without_cookies_are_kept():
    app = tiny_app(max_bytes=50)
    client = app.test_client(use_cookies=False)
    for path in ["/page/a", "/page/cookie", "/page/private", "/page/big", "/plain", "/page/a"]:
        client.get(path)
        client.get(path)
    assert app.config["CALLS"] == ["a", "cookie", "cookie", "private", "private", "big", "big", "plain", "plain"]
    assert pagecache.MARK not in client.get("/page/cookie").headers


def test_the_cache_keeps_at_most_its_number_of_entries():
    app = tiny_app(entries=2)
    client = app.test_client(use_cookies=False)
    for name in ["a", "b", "c", "a"]:
        client.get(f"/page/{name}")
    assert len(pagecache.cache_of(app)) == 2
    assert app.config["CALLS"] == ["a", "b", "c", "a"]  # "a" was the oldest, so it went first


def test_the_cache_keeps_at_most_its_bytes_in_all():
    app = tiny_app(max_bytes=25)  # each page's body is 9 bytes ("page a #1")
    cache = pagecache.cache_of(app)
    client = app.test_client(use_cookies=False)
    for name in ["a", "b", "c"]:
        client.get(f"/page/{name}")
    assert len(cache) == 2 and cache.size <= 25
    client.get("/page/b")
    client.get("/page/a")  # dropped for the room "c" needed
    assert app.config["CALLS"] == ["a", "b", "c", "a"]
    cache.clear()
    assert len(cache) == 0 and cache.size == 0


def test_head_and_post_pass_through():
    app = tiny_app()
    client = app.test_client(use_cookies=False)
    client.get("/page/a")
    assert client.head("/page/a").status_code == 200
    assert client.post("/page/a").status_code == 405
    assert app.config["CALLS"] == ["a", "a"]


# --- found in review: the key must read what the page reads -------------------------------------


def test_an_odd_cookie_header_cannot_put_a_welsh_page_under_the_plain_visitors_key(visitor, cache):
    assert "Cwestau agored" in visitor.get("/quests", headers={"Cookie": f"a b; {LANGUAGE_COOKIE}=cy"}).text
    assert "Open quests" in visitor.get("/quests").text  # the next plain visitor still gets English
    visitor.get("/quests", headers={"Cookie": f"{LANGUAGE_COOKIE}=cy; {LANGUAGE_COOKIE}=en"})  # which one? not kept
    assert "Open quests" in visitor.get("/quests", headers={"Cookie": f"{LANGUAGE_COOKIE}=en"}).text


def test_a_signed_in_person_with_an_odd_cookie_is_still_served_their_own_page(visitor, cache, client, login):
    me = make_user(name="Priya Reporter")
    make_problem(me, title="Graffiti on the bridge")
    visitor.get("/problems")
    login(me)
    session_id = client.get_cookie("session").value
    for odd in ('prefs={"a":1}', "theme=dark mode"):
        mine = visitor.get("/problems", headers={"Cookie": f"{odd}; session={session_id}"})
        assert "Age" not in mine.headers and "Priya Reporter" in mine.text


def test_a_page_built_while_a_write_emptied_the_cache_is_not_kept():
    app = tiny_app()
    cache = pagecache.cache_of(app)
    original = app.view_functions["page"]

    def page_during_a_commit(name):
        response = original(name)
        cache.clear()  # another thread's commit, while this page was being built from the old rows
        return response

    app.view_functions["page"] = page_during_a_commit
    client = app.test_client(use_cookies=False)
    first = client.get("/page/a")
    app.view_functions["page"] = original
    again = client.get("/page/a")
    assert "Age" not in again.headers and again.get_data() != first.get_data()
