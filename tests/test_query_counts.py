"""Main pages issue a bounded number of SQL queries, whatever the amount of data."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from accounts import kudos
from challenges import tracker
from events import services as events
from extensions import db
from scoring.models import Season
from tests.events_helpers import add_quests, make_event
from tests.factories import approve, make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from tests.querycount import counting
from timeutil import utcnow

PAGES = ["/", "/problems", "/quests", "/leaderboards", "/teams", "/claims"]
MAX_QUERIES = 12
MAX_ASSET_BYTES = 200 * 1024


def seed(organiser, n: int) -> None:
    for _ in range(n):
        player = make_user()
        team = make_team(player)
        problem = make_problem(player)
        solo = make_quest(organiser, problem_id=problem.id)
        team_quest = make_quest(organiser, mode="team")
        approve(organiser, make_claim(player, solo, submit=True))
        make_claim(player, team_quest, team=team, submit=True)


def query_counts(client, pages) -> dict[str, int]:
    counts = {}
    for url in pages:
        with counting(db.engine) as statements:
            assert client.get(url).status_code == 200, url
        counts[url] = len(statements)
    return counts


@pytest.mark.parametrize("viewer", ["organiser", "participant"])
def test_page_queries_do_not_grow_with_data(client, login, viewer):
    organiser = make_organiser()
    watcher = make_user()
    make_team(watcher)
    login(organiser if viewer == "organiser" else watcher)
    pages = PAGES + (["/review"] if viewer == "organiser" else [])
    seed(organiser, 2)
    small = query_counts(client, pages)
    seed(organiser, 8)
    large = query_counts(client, pages)
    assert small == large
    assert max(large.values()) <= MAX_QUERIES, large


# --- every main page, for a visitor and for a participant with a full dashboard ------------

def town() -> SimpleNamespace:
    """The pages' subjects: a problem, a quest made from it, a team, a running event with
    quests, a running campaign, an open season, and a participant in the thick of it."""
    from tests.test_campaigns import make_campaign

    organiser, me = make_organiser(), make_user()
    team = make_team(me)
    problem = make_problem(me)
    quest = make_quest(organiser, problem_id=problem.id)
    event = make_event(organiser)
    add_quests(organiser, event, 2)
    campaign = make_campaign(organiser, starts_at=utcnow() - timedelta(days=1))
    tracker.subscribe_area(db.session, actor=me, lat=51.4545, lon=-2.5879, radius_m=2000)
    today = date.today()
    db.session.add(Season(name="This term", starts_on=today - timedelta(days=30), ends_on=today + timedelta(days=30)))
    db.session.commit()
    return SimpleNamespace(organiser=organiser, me=me, team=team, problem=problem, quest=quest, event=event,
                           campaign=campaign)


def grow(t: SimpleNamespace, n: int) -> None:
    """n more of everything, much of it on the pages' own subjects."""
    for _ in range(n):
        player = make_user()
        tracker.confirm(db.session, actor=player, problem=t.problem)
        tracker.subscribe(db.session, actor=player, problem=t.problem)
        problem = make_problem(player)  # inside the campaign's ward
        own = make_quest(t.organiser, problem_id=problem.id)
        fix = approve(t.organiser, make_claim(player, own, submit=True))
        kudos.give_kudos(db.session, actor=t.me, claim=fix)
        approve(t.organiser, make_claim(player, t.quest, submit=True))
        mine = approve(t.organiser, make_claim(t.me, make_quest(t.organiser, problem_id=problem.id), submit=True))
        kudos.give_kudos(db.session, actor=player, claim=mine)
        make_claim(t.me, make_quest(t.organiser))
        crew = make_team(player)
        events.register(db.session, actor=player, event=t.event, team_id=crew.id)
        db.session.commit()
    db.session.commit()


def main_pages(t: SimpleNamespace) -> list[str]:
    return ["/", "/problems", f"/problems/{t.problem.id}", "/api/v1/problems.geojson", "/quests",
            f"/quests/{t.quest.id}", "/leaderboards", f"/teams/{t.team.id}", f"/events/{t.event.id}",
            f"/campaigns/{t.campaign.id}"]


@pytest.mark.parametrize("viewer", ["visitor", "participant"])
def test_main_pages_send_the_same_few_queries_with_little_or_much_data(client, login, viewer):
    t = town()
    pages = main_pages(t)
    if viewer == "participant":
        login(t.me)
        pages.append("/dashboard")
    grow(t, 1)
    small = query_counts(client, pages)
    grow(t, 6)
    large = query_counts(client, pages)
    assert small == large
    assert max(large.values()) <= MAX_QUERIES, large


# --- page weight ---------------------------------------------------------------------------

def static_assets(html: str) -> set[str]:
    """The /static/ CSS and JS a page links."""
    from html.parser import HTMLParser

    found: set[str] = set()

    class Assets(HTMLParser):
        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "script" and a.get("src", "").startswith("/static/"):
                found.add(a["src"])
            if tag == "link" and a.get("rel") == "stylesheet" and a.get("href", "").startswith("/static/"):
                found.add(a["href"])

    Assets().feed(html)
    return found


@pytest.mark.parametrize("viewer", ["visitor", "participant"])
def test_each_main_page_loads_under_200_kb_of_css_and_js(app, client, login, viewer):
    t = town()
    grow(t, 1)
    pages = main_pages(t)[:3] + main_pages(t)[4:]  # the GeoJSON is data, not a page
    if viewer == "participant":
        login(t.me)
        pages.append("/dashboard")
    static = Path(app.static_folder)
    for url in pages:
        assets = static_assets(client.get(url).text)
        assert "/static/fixquest.css" in assets, url
        total = sum((static / a.removeprefix("/static/").split("?")[0]).stat().st_size for a in assets)
        assert total < MAX_ASSET_BYTES, (url, total, sorted(assets))
