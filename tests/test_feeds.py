"""Atom feeds: valid Atom 1.0 that feedparser reads cleanly, the right entries in the right
order for each kind of feed, and nothing private in any of them."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import feedparser
import pytest

from challenges.services import change_status
from extensions import db
from tests.querycount import counting
from feeds import atom
from tests.factories import make_organiser, make_problem, make_user
from timeutil import utcnow

EMAIL = re.compile(rb"[\w.+-]+@[\w-]+(\.[\w-]+)+")
BRISTOL = dict(lat=51.4545, lon=-2.5879)
BATH = dict(lat=51.3811, lon=-2.3590)


def parse(response):
    assert response.status_code == 200, response.data
    assert response.content_type == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.data)
    assert feed.version == "atom10"
    assert feed.bozo == 0, feed.get("bozo_exception")
    return feed


def titles(feed) -> list[str]:
    return [entry.title for entry in feed.entries]


def ago(minutes: int) -> datetime:
    return utcnow() - timedelta(minutes=minutes)


# --- the site-wide feed ----------------------------------------------------------------------

def test_site_feed_is_valid_atom_with_every_required_element(client):
    reporter = make_user(name="Ann Example")
    problem = make_problem(reporter, title="Broken bench", category="other", address="College Green", **BRISTOL)
    feed = parse(client.get("/feeds/problems.atom"))

    assert feed.feed.id.startswith("tag:localhost,2026:")
    assert feed.feed.title == "FixQuest: newest problems"
    assert feed.feed.updated_parsed is not None
    links = {link.rel: link.href for link in feed.feed.links}
    assert links["self"] == "http://localhost/feeds/problems.atom"
    assert links["alternate"] == "http://localhost/problems"
    assert feed.feed.author == "FixQuest"

    [entry] = feed.entries
    assert entry.id == f"tag:localhost,2026:fixquest/problem/{problem.id}"
    assert entry.title == "Broken bench"
    assert entry.link == f"http://localhost/problems/{problem.id}"
    assert entry.published_parsed is not None and entry.updated_parsed is not None
    assert entry.author == "Ann Example"
    assert [tag.term for tag in entry.tags] == ["other"]
    assert "College Green" in entry.summary
    assert "Deep enough to break an ankle." in entry.content[0].value
    assert entry.content[0].type == "text/plain"
    assert entry.where["coordinates"] == pytest.approx((BRISTOL["lon"], BRISTOL["lat"]))


def test_site_feed_lists_newest_problems_first(client):
    reporter = make_user()
    for minutes, title in ((30, "Oldest"), (10, "Newest"), (20, "Middle")):
        make_problem(reporter, title=title, now=ago(minutes))
    feed = parse(client.get("/feeds/problems.atom"))
    assert titles(feed) == ["Newest", "Middle", "Oldest"]
    assert feed.feed.updated_parsed == feed.entries[0].updated_parsed


def test_site_feed_holds_the_newest_fifty(client):
    reporter = make_user()
    for n in range(52):
        make_problem(reporter, title=f"Problem {n:02d}", now=ago(100 - n))
    feed = parse(client.get("/feeds/problems.atom"))
    assert len(feed.entries) == 50
    assert feed.entries[0].title == "Problem 51" and feed.entries[-1].title == "Problem 02"


def test_empty_site_feed_is_still_valid(client):
    feed = parse(client.get("/feeds/problems.atom"))
    assert feed.entries == [] and feed.feed.updated_parsed is not None


def test_merged_problems_are_left_out_of_the_site_feed(client):
    reporter = make_user()
    survivor = make_problem(reporter, title="Survivor")
    duplicate = make_problem(reporter, title="Duplicate")
    duplicate.merged_into_id = survivor.id
    db.session.commit()
    assert titles(parse(client.get("/feeds/problems.atom"))) == ["Survivor"]


def test_markup_is_escaped_and_characters_xml_forbids_are_dropped(client):
    reporter = make_user(name="<b>Bob</b> & co")
    make_problem(reporter, title="<script>alert(1)</script> & \x0b done", description="Bad \x01 bytes & <i>tags</i>")
    response = client.get("/feeds/problems.atom")
    assert b"<script>" not in response.data and b"<i>" not in response.data
    [entry] = parse(response).entries
    assert entry.title == "<script>alert(1)</script> &  done"
    assert entry.author == "<b>Bob</b> & co"
    assert "Bad  bytes & <i>tags</i>" in entry.content[0].value


# --- a problem's feed ------------------------------------------------------------------------

def test_problem_feed_lists_its_updates_newest_first_with_the_status_change(client):
    reporter, organiser = make_user(name="Reporter"), make_organiser(name="Officer Kay")
    problem = make_problem(reporter, title="Pothole on Park Row", now=ago(60))
    change_status(db.session, actor=organiser, problem=problem, status="in_progress", now=ago(30))
    change_status(db.session, actor=organiser, problem=problem, status="fixed", note="Filled & rolled.", now=ago(5))
    db.session.commit()

    feed = parse(client.get(f"/feeds/problems/{problem.id}.atom"))
    assert feed.feed.title == f"FixQuest: problem #{problem.id}: Pothole on Park Row"
    assert {link.rel: link.href for link in feed.feed.links} == {
        "self": f"http://localhost/feeds/problems/{problem.id}.atom",
        "alternate": f"http://localhost/problems/{problem.id}"}
    assert titles(feed) == ["Status changed from in progress to fixed",
                            "Status changed from open to in progress",
                            "Reported by Reporter"]
    fixed = feed.entries[0]
    assert fixed.author == "Officer Kay"
    assert "Filled & rolled." in fixed.content[0].value
    assert fixed.link.startswith(f"http://localhost/problems/{problem.id}#update-")
    assert feed.feed.updated_parsed == fixed.updated_parsed
    assert len({entry.id for entry in feed.entries}) == 3


def test_a_new_status_change_appears_at_the_top_of_the_problem_feed(client):
    organiser = make_organiser()
    problem = make_problem(make_user(), now=ago(10))
    before = parse(client.get(f"/feeds/problems/{problem.id}.atom"))
    change_status(db.session, actor=organiser, problem=problem, status="confirmed")
    db.session.commit()
    after = parse(client.get(f"/feeds/problems/{problem.id}.atom"))
    assert len(after.entries) == len(before.entries) + 1
    assert after.entries[0].title == "Status changed from open to confirmed"
    assert after.entries[1].id == before.entries[0].id  # ids are stable


def test_feed_of_a_merged_problem_redirects_to_the_survivors_feed(client):
    reporter = make_user()
    survivor = make_problem(reporter)
    duplicate = make_problem(reporter)
    duplicate.merged_into_id = survivor.id
    db.session.commit()
    response = client.get(f"/feeds/problems/{duplicate.id}.atom")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/feeds/problems/{survivor.id}.atom")


@pytest.mark.parametrize("path", ["/feeds/problems/999.atom", f"/feeds/problems/{2**70}.atom",
                                  "/feeds/problems/abc.atom"])
def test_feed_of_an_unknown_problem_is_404(client, path):
    assert client.get(path).status_code == 404


# --- category feeds --------------------------------------------------------------------------

def test_category_feed_holds_only_that_category_newest_first(client):
    reporter = make_user()
    make_problem(reporter, title="Old pothole", category="pothole", now=ago(20))
    make_problem(reporter, title="Litter", category="litter", now=ago(15))
    make_problem(reporter, title="New pothole", category="pothole", now=ago(10))
    feed = parse(client.get("/feeds/category/pothole.atom"))
    assert feed.feed.title == "FixQuest: new pothole problems"
    assert titles(feed) == ["New pothole", "Old pothole"]
    assert {link.rel: link.href for link in feed.feed.links}["alternate"] == \
        "http://localhost/problems?category=pothole"


@pytest.mark.parametrize("category", ["potholes", "Pothole", "..", "%3Cb%3E"])
def test_unknown_category_feed_is_404(client, category):
    assert client.get(f"/feeds/category/{category}.atom").status_code == 404


# --- area feeds ------------------------------------------------------------------------------

def test_area_feed_by_bbox_includes_problems_inside_and_excludes_those_outside(client):
    reporter = make_user()
    make_problem(reporter, title="In Bristol", now=ago(20), **BRISTOL)
    make_problem(reporter, title="In Bath", now=ago(10), **BATH)
    make_problem(reporter, title="Also in Bristol", now=ago(5), lat=51.4600, lon=-2.6000)
    feed = parse(client.get("/feeds/area.atom?bbox=-2.65,51.42,-2.52,51.50"))
    assert titles(feed) == ["Also in Bristol", "In Bristol"]
    assert "between latitudes 51.42 and 51.5" in feed.feed.title


def test_area_feed_by_circle_keeps_only_problems_within_the_radius(client):
    reporter = make_user()
    make_problem(reporter, title="At the centre", now=ago(30), **BRISTOL)
    make_problem(reporter, title="About 330 m north", now=ago(20), lat=51.4575, lon=-2.5879)
    make_problem(reporter, title="About 1.1 km north", now=ago(10), lat=51.4645, lon=-2.5879)
    feed = parse(client.get("/feeds/area.atom?lat=51.4545&lon=-2.5879&radius_m=500"))
    assert titles(feed) == ["About 330 m north", "At the centre"]
    assert feed.feed.title == "FixQuest: new problems within 500 m of 51.4545, -2.5879"


def test_area_feed_across_the_antimeridian(client):
    reporter = make_user()
    make_problem(reporter, title="Fiji", lat=-17.7, lon=178.0)
    make_problem(reporter, title="Samoa", lat=-13.8, lon=-171.8)
    make_problem(reporter, title="Bristol", **BRISTOL)
    feed = parse(client.get("/feeds/area.atom?bbox=170,-20,-170,-10"))
    assert sorted(titles(feed)) == ["Fiji", "Samoa"]


def test_area_feed_leaves_out_merged_problems(client):
    reporter = make_user()
    survivor = make_problem(reporter, title="Survivor", **BRISTOL)
    duplicate = make_problem(reporter, title="Duplicate", **BRISTOL)
    duplicate.merged_into_id = survivor.id
    db.session.commit()
    assert titles(parse(client.get("/feeds/area.atom?lat=51.4545&lon=-2.5879&radius_m=100"))) == ["Survivor"]


@pytest.mark.parametrize("query, field", [
    ("", "bbox"),
    ("bbox=1,2,3", "bbox"),
    ("bbox=a,b,c,d", "bbox"),
    ("bbox=nan,0,1,1", "bbox"),
    ("bbox=-2.6,51.5,-2.5,51.4", "bbox"),
    ("bbox=-200,51,-2,52", "bbox"),
    ("bbox=-3,-91,-2,52", "bbox"),
    ("bbox=-3,51,-2,52&lat=51&lon=-2&radius_m=10", "bbox"),
    ("lat=51.45&lon=-2.58", "radius_m"),
    ("lat=91&lon=0&radius_m=10", "lat"),
    ("lat=51&lon=1e999&radius_m=10", "lon"),
    ("lat=51&lon=-2&radius_m=0", "radius_m"),
    ("lat=51&lon=-2&radius_m=1000000", "radius_m"),
    ("lat=51,5&lon=-2&radius_m=10", "lat"),
])
def test_area_feed_with_bad_parameters_is_400_with_a_plain_message(client, query, field):
    response = client.get(f"/feeds/area.atom?{query}")
    assert response.status_code == 400
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.get_data(as_text=True).startswith(f"{field}: ")


# --- privacy, caching, cost ------------------------------------------------------------------

def test_no_feed_shows_an_email_address(client):
    reporter = make_user(email="reporter.secret@example.org", name="Reporter")
    organiser = make_organiser(email="officer.secret@council.example", name="Officer")
    problem = make_problem(reporter, **BRISTOL)
    change_status(db.session, actor=organiser, problem=problem, status="fixed", note="Sorted.")
    db.session.commit()
    for path in ["/feeds/problems.atom", f"/feeds/problems/{problem.id}.atom", "/feeds/category/pothole.atom",
                 "/feeds/area.atom?bbox=-3,51,-2,52", "/feeds/area.atom?lat=51.4545&lon=-2.5879&radius_m=50"]:
        body = client.get(path).data
        assert b"secret" not in body and not EMAIL.search(body), path
        assert b"Reporter" in body, path


def test_feeds_answer_304_when_nothing_changed(client):
    make_problem(make_user())
    first = client.get("/feeds/problems.atom")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert "public" in first.headers["Cache-Control"]
    again = client.get("/feeds/problems.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_feed_queries_do_not_grow_with_the_number_of_entries(client):
    organiser = make_organiser()

    def seed(n):
        for _ in range(n):
            problem = make_problem(make_user(), **BRISTOL)
            change_status(db.session, actor=organiser, problem=problem, status="confirmed")
        db.session.commit()
        return problem

    def counts(problem_id):
        result = {}
        for name, path in [("site", "/feeds/problems.atom"), ("category", "/feeds/category/pothole.atom"),
                           ("bbox", "/feeds/area.atom?bbox=-3,51,-2,52"),
                           ("circle", "/feeds/area.atom?lat=51.4545&lon=-2.5879&radius_m=100"),
                           ("problem", f"/feeds/problems/{problem_id}.atom")]:
            with counting(db.engine) as statements:
                assert client.get(path).status_code == 200
            result[name] = len(statements)
        return result

    small = counts(seed(2).id)
    large = counts(seed(8).id)
    assert small == large
    assert max(large.values()) <= 3, large


# --- the writer on its own -------------------------------------------------------------------

def test_writer_output_parses_as_atom_without_the_app():
    when = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
    entry = atom.Entry(id="tag:example.org,2026:x/1", title="A & B", updated=when, published=when,
                       link="https://example.org/1", content="Line one\nLine two", point=(51.5, -2.5))
    body = atom.render(atom.Feed(id="tag:example.org,2026:x", title="Feed", updated=when,
                                 self_url="https://example.org/f.atom", alternate_url="https://example.org/",
                                 author="FixQuest", entries=[entry]))
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    feed = feedparser.parse(body)
    assert (feed.version, feed.bozo) == ("atom10", 0)
    assert feed.entries[0].title == "A & B"
    assert feed.feed.updated == "2026-11-27T09:30:00Z"
