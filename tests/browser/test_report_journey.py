"""A newcomer reports a problem by clicking the map and is offered the report already made
nearby, which they confirm instead of filing a duplicate."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from challenges.models import Problem
from extensions import db
from tests.browser.conftest import check_accessibility, log_in, shoot, visit
from tests.factories import make_problem, make_user


def test_clicking_the_map_offers_the_problem_already_reported_there(person):
    lat, lon = current_app.config["MAP_CENTRE"]
    reporter = make_user(name="Ada")
    existing = make_problem(reporter, title="Pothole outside the library", category="pothole", lat=lat, lon=lon)
    newcomer = make_user(name="Newcomer")

    page = person()
    visit(page, "/")
    shoot(page, "home-visitor")
    log_in(page, newcomer)
    visit(page, "/problems/new")
    page.get_by_label("Category").select_option("pothole")
    page.get_by_label("Title").fill("Big hole in the road")
    map_box = page.get_by_role("region", name="Map for choosing the location")
    map_box.click()  # the centre of the map, where the first report is

    assert page.get_by_label("Latitude").input_value() != ""
    nearby = page.get_by_role("region", name="Is it one of these?")
    nearby.get_by_role("link", name="Pothole outside the library").wait_for()
    check_accessibility(page)
    shoot(page, "report")

    nearby.get_by_role("link", name="Pothole outside the library").click()
    page.wait_for_url(f"**/problems/{existing.id}")
    check_accessibility(page)
    page.get_by_role("button", name="I see this too").click()
    page.get_by_text("You see this too").wait_for()
    check_accessibility(page)
    shoot(page, "problem")

    assert db.session.scalar(select(func.count()).select_from(Problem)) == 1  # no duplicate filed
    db.session.expire_all()
    assert db.session.get(Problem, existing.id).confirmations_count == 1
    visit(page, "/problems")
    shoot(page, "problems")
    with page.expect_request(lambda sent: "problems.geojson" in sent.url) as asked:
        visit(page, "/map")
    # The map's data is asked for without the session cookie, as a visitor would, so the
    # visitors' page cache answers it for signed-in people too.
    assert "cookie" not in asked.value.all_headers()
    page.locator(".leaflet-marker-icon, .marker-cluster").first.wait_for()  # the map drew the problems
    check_accessibility(page)
    shoot(page, "map")
    # The map's credits are links set in running text: underlined, so they are not told
    # apart by colour alone (axe's link-in-text-block flags them only when it can work out
    # the colour behind them, which depends on whether the tiles have drawn yet).
    credits = page.locator(".leaflet-control-attribution a")
    assert credits.count() >= 1
    assert all("underline" in style for style in credits.evaluate_all(
        "links => links.map(link => getComputedStyle(link).textDecorationLine)"))
