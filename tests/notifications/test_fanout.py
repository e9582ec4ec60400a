"""Who is told about an update, on which channels, and that fan-out happens once."""
from __future__ import annotations

import time

from sqlalchemy import event, func, insert, select, update

from accounts.models import User
from challenges.models import ProblemUpdate, Subscription
from extensions import db
from notifications.models import Notification, NotificationFanout
from notifications.services import fan_out, publish
from tests.factories import make_organiser, make_user
from tests.notifications.helpers import BRISTOL, add_problem, add_update, drain, follow, rows, states


def test_problem_subscribers_get_in_app_and_email_by_their_delivery_choice(ctx):
    organiser, at_once, daily, in_app_only, elsewhere = (make_organiser(), make_user(), make_user(),
                                                          make_user(), make_user())
    problem = add_problem(organiser)
    other = add_problem(organiser, title="Broken bench")
    follow(at_once, problem)
    follow(daily, problem, delivery="digest")
    follow(in_app_only, problem, delivery="in_app")
    follow(elsewhere, other)
    entry = add_update(problem, organiser, publish_it=False)

    result = fan_out(db.session, update_id=entry.id)
    db.session.commit()

    assert result.claimed and result.created == 5 and result.emails_pending == 1
    assert states(entry.id) == {
        (at_once.id, "in_app", "sent"), (at_once.id, "email", "pending"),
        (daily.id, "in_app", "sent"), (daily.id, "email", "digest"),
        (in_app_only.id, "in_app", "sent"),
    }


def test_the_author_is_not_told_about_their_own_update(ctx):
    organiser, follower = make_organiser(), make_user()
    problem = add_problem(organiser)
    follow(organiser, problem)
    follow(follower, problem)
    entry = add_update(problem, organiser, publish_it=False)

    fan_out(db.session, update_id=entry.id)
    db.session.commit()

    assert {n.user_id for n in rows(update_id=entry.id)} == {follower.id}


def test_a_new_report_reaches_matching_area_and_category_subscribers(ctx):
    reporter = make_user()
    near_circle, far_circle, box, box_elsewhere, same_category, other_category = (make_user() for _ in range(6))
    lat, lon = BRISTOL
    follow(near_circle, centre_lat=lat + 0.003, centre_lon=lon, radius_m=400)   # ~334 m away
    follow(far_circle, centre_lat=lat + 0.003, centre_lon=lon, radius_m=300)
    follow(box, min_lat=lat - 0.01, min_lon=lon - 0.01, max_lat=lat + 0.01, max_lon=lon + 0.01)
    follow(box_elsewhere, min_lat=lat - 0.01, min_lon=lon + 0.01, max_lat=lat + 0.01, max_lon=lon + 0.02)
    follow(same_category, category="pothole", delivery="digest")
    follow(other_category, category="litter")
    problem = add_problem(reporter)
    report = add_update(problem, reporter, kind="reported", new_status="open", publish_it=False)

    fan_out(db.session, update_id=report.id)
    db.session.commit()

    assert {n.user_id for n in rows(update_id=report.id)} == {near_circle.id, box.id, same_category.id}


def test_area_and_category_subscribers_hear_only_of_new_reports(ctx):
    organiser, watcher = make_organiser(), make_user()
    follow(watcher, category="pothole")
    follow(watcher, centre_lat=BRISTOL[0], centre_lon=BRISTOL[1], radius_m=100)
    problem = add_problem(organiser)
    entry = add_update(problem, organiser, publish_it=False)

    assert fan_out(db.session, update_id=entry.id).created == 0


def test_a_box_across_the_antimeridian_contains_points_on_both_sides(ctx):
    reporter, watcher = make_user(), make_user()
    follow(watcher, min_lat=-18.0, min_lon=179.5, max_lat=-17.0, max_lon=-179.5)
    east = add_problem(reporter, lat=-17.5, lon=179.9)
    west = add_problem(reporter, lat=-17.5, lon=-179.9)
    outside = add_problem(reporter, lat=-17.5, lon=178.0)
    reached = {}
    for problem in (east, west, outside):
        report = add_update(problem, reporter, kind="reported", new_status="open", publish_it=False)
        reached[problem.id] = fan_out(db.session, update_id=report.id).created
    db.session.commit()
    assert reached == {east.id: 2, west.id: 2, outside.id: 0}


def test_following_several_ways_gives_one_notification_per_channel_with_the_strongest_delivery(ctx):
    reporter, watcher = make_user(), make_user()
    problem = add_problem(reporter)
    follow(watcher, category="pothole", delivery="in_app")
    area = follow(watcher, centre_lat=BRISTOL[0], centre_lon=BRISTOL[1], radius_m=50, delivery="digest")
    report = add_update(problem, reporter, kind="reported", new_status="open", publish_it=False)

    fan_out(db.session, update_id=report.id)
    db.session.commit()

    found = rows(update_id=report.id)
    assert {(n.channel, n.state) for n in found} == {("in_app", "sent"), ("email", "digest")}
    assert {n.subscription_id for n in found} == {area.id}


def test_running_fan_out_again_creates_nothing_twice(ctx):
    organiser, follower = make_organiser(), make_user()
    problem = add_problem(organiser)
    follow(follower, problem)
    entry = add_update(problem, organiser, publish_it=False)
    assert fan_out(db.session, update_id=entry.id).created == 2
    db.session.commit()

    again = fan_out(db.session, update_id=entry.id)
    # Even forced past the outbox (its row marked not done), the unique constraint holds.
    db.session.execute(update(NotificationFanout).values(done_at=None))
    forced = fan_out(db.session, update_id=entry.id)
    db.session.commit()

    assert not again.claimed and forced.claimed and forced.created == 0
    assert len(rows(update_id=entry.id)) == 2


def test_publish_then_commit_fans_out_in_a_job(ctx, outbox, app):
    organiser, follower = make_organiser(), make_user()
    problem = add_problem(organiser)
    follow(follower, problem)
    entry = add_update(problem, organiser)
    drain(app)

    assert states(entry.id) == {(follower.id, "in_app", "sent"), (follower.id, "email", "sent")}
    assert [m["To"] for m in outbox.messages] == [follower.email]
    assert db.session.get(NotificationFanout, entry.id).done_at is not None


def test_a_rolled_back_update_is_never_fanned_out(ctx, outbox, app):
    organiser, follower = make_organiser(), make_user()
    problem = add_problem(organiser)
    follow(follower, problem)
    entry = ProblemUpdate(problem_id=problem.id, author_id=organiser.id, kind="comment", body="Oops")
    db.session.add(entry)
    db.session.flush()
    publish(db.session, entry)
    db.session.rollback()
    drain(app)

    assert rows() == [] and outbox.messages == []
    assert db.session.scalar(select(func.count()).select_from(NotificationFanout)) == 0


def _statements(engine, work) -> list[str]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return seen


def _bulk_followers(problem, n: int, start: int) -> None:
    """n people following the problem, inserted in two statements."""
    db.session.execute(insert(User), [
        {"email": f"bulk{start + i}@example.org", "password_hash": "x", "display_name": f"Bulk {start + i}",
         "role": "participant"} for i in range(n)])
    ids = db.session.scalars(select(User.id).where(User.email.like("bulk%")).order_by(User.id.desc()).limit(n))
    db.session.execute(insert(Subscription), [
        {"user_id": uid, "kind": "problem", "problem_id": problem.id,
         "delivery": ("immediate", "digest", "in_app")[uid % 3]} for uid in ids])
    db.session.commit()


def test_fan_out_to_ten_thousand_subscribers_is_set_based(ctx):
    organiser = make_organiser()
    problem = add_problem(organiser)
    _bulk_followers(problem, 10, 0)
    small = add_update(problem, organiser, publish_it=False)
    few = _statements(db.engine, lambda: (fan_out(db.session, update_id=small.id), db.session.commit()))
    _bulk_followers(problem, 9_990, 10)
    big = add_update(problem, organiser, publish_it=False, new_status="in_progress")

    started = time.perf_counter()
    many = _statements(db.engine, lambda: (fan_out(db.session, update_id=big.id), db.session.commit()))
    took = time.perf_counter() - started

    assert len(many) == len(few)  # the same few statements, whatever the number of subscribers
    created = db.session.scalar(select(func.count()).select_from(Notification)
                                .where(Notification.update_id == big.id))
    emailed = db.session.scalar(select(func.count()).select_from(Subscription)
                                .where(Subscription.delivery != "in_app"))
    assert created == 10_000 + emailed
    assert took < 15, f"fan-out of 10,000 took {took:.1f} s"
