"""A subscriber follows a problem and, with their inbox open, sees an organiser's update
arrive without reloading."""
from __future__ import annotations

from playwright.sync_api import expect

from notifications.jobs import work_off
from tests.browser.conftest import check_accessibility, log_in, visit
from tests.factories import make_organiser, make_problem, make_user


def test_a_follower_sees_a_new_update_appear_in_their_open_inbox(person, app):
    reporter = make_user(name="Rita Reporter")
    problem = make_problem(reporter, title="Broken bench in Castle Park")
    follower = make_user(name="Fay Follower")
    officer = make_organiser(name="Omar Officer")
    work_off(app)  # the report's own fan-out, before anyone follows

    fay = person()
    log_in(fay, follower)
    visit(fay, f"/problems/{problem.id}")
    fay.get_by_role("button", name="Follow updates").click()
    fay.get_by_role("button", name="Stop following").wait_for()
    visit(fay, "/notifications")
    header_count = fay.get_by_role("navigation").get_by_role("link", name="Notifications (0)")
    expect(header_count).to_have_count(1)
    just_in = fay.get_by_role("region", name="Just in")
    expect(just_in).to_be_hidden()

    omar = person()
    log_in(omar, officer)
    visit(omar, f"/problems/{problem.id}")
    omar.get_by_label("Public update").fill("The council will replace the bench on Monday.")
    omar.get_by_role("button", name="Post update").click()
    omar.get_by_text("The council will replace the bench on Monday.").first.wait_for()
    work_off(app)  # the notifications worker: the fan-out runs as a background job

    expect(fay.get_by_role("navigation").get_by_role("link", name="Notifications (1)")).to_have_count(1)
    expect(just_in.get_by_role("link", name="New update on Broken bench in Castle Park")).to_be_visible()
    check_accessibility(fay)
    just_in.get_by_role("link", name="New update on Broken bench in Castle Park").click()
    fay.wait_for_url(f"**/problems/{problem.id}")
