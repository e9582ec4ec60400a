"""No notification reaches a child outside school hours, and none by email at all."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app import create_app
from childsafe import notify, quiet
from config import ConfigError
from extensions import db
from notifications.models import Notification
from notifications.services import fan_out
from tests.childsafe.helpers import make_class
from tests.conftest import app_config
from tests.factories import make_organiser, make_user
from tests.notifications.helpers import add_problem, add_update, follow, states

LONDON_HOURS = quiet.parse("18:00-08:00", "sat,sun", "Europe/London")
FRIDAY_EVENING = datetime(2026, 11, 27, 19, 0, tzinfo=timezone.utc)   # 19:00 in London
MONDAY_MORNING = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)    # 08:00 in London
TUESDAY_NOON = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("moment, is_quiet", [
    (datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc), False),   # Friday morning lesson
    (datetime(2026, 11, 27, 17, 59, tzinfo=timezone.utc), False),
    (FRIDAY_EVENING, True),
    (datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc), True),    # Saturday
    (datetime(2026, 11, 30, 7, 59, tzinfo=timezone.utc), True),    # Monday before school
    (MONDAY_MORNING, False),
    (datetime(2026, 7, 1, 7, 30, tzinfo=timezone.utc), False),     # 08:30 in summer time
    (datetime(2026, 7, 1, 17, 30, tzinfo=timezone.utc), True),     # 18:30 in summer time
])
def test_quiet_hours_are_read_in_the_sites_zone(moment, is_quiet):
    assert LONDON_HOURS.is_quiet(moment) is is_quiet


def test_quiet_hours_end_on_the_next_school_morning():
    assert LONDON_HOURS.ends_after(FRIDAY_EVENING) == MONDAY_MORNING
    assert LONDON_HOURS.ends_after(TUESDAY_NOON) == TUESDAY_NOON


@pytest.mark.parametrize("hours, days", [("18-08", "sat,sun"), ("18:00", "sat"), ("25:00-08:00", ""),
                                         ("18:00-08:00", "saturday,funday"),
                                         ("18:00-08:00", "mon,tue,wed,thu,fri,sat,sun")])
def test_bad_quiet_hours_stop_the_app_starting_with_a_message(hours, days, database_url):
    with pytest.raises(ConfigError):
        create_app({**app_config(database_url, None), "CHILD_QUIET_HOURS": hours, "CHILD_QUIET_DAYS": days})


def _class_following_a_problem():
    teacher, team, (child,) = make_class(None, "Wilhelmina Sprocketford")
    adult, organiser = make_user(), make_organiser()
    problem = add_problem(organiser)
    follow(child, problem)  # immediate email chosen, as confirming does
    follow(adult, problem)
    return organiser, problem, child, adult


def _visible_to(user_id, now):
    return list(db.session.scalars(select(Notification.id).where(
        Notification.user_id == user_id, Notification.channel == "in_app", notify.delivered_in_app(now))))


def test_in_quiet_hours_a_childs_notification_waits_for_school_and_no_email_is_made(ctx):
    organiser, problem, child, adult = _class_following_a_problem()
    entry = add_update(problem, organiser, publish_it=False)
    fan_out(db.session, update_id=entry.id, now=FRIDAY_EVENING)
    db.session.commit()
    assert states(entry.id) == {(child.id, "in_app", "held"), (adult.id, "in_app", "sent"),
                                (adult.id, "email", "pending")}
    held = db.session.scalar(select(Notification).where(Notification.user_id == child.id))
    assert held.next_attempt_at == MONDAY_MORNING and held.sent_at is None
    assert _visible_to(child.id, datetime(2026, 11, 29, 20, 0, tzinfo=timezone.utc)) == []
    assert _visible_to(child.id, MONDAY_MORNING) == [held.id]
    assert notify.release_due(db.session, now=MONDAY_MORNING) == 1
    db.session.commit()
    assert states(entry.id) >= {(child.id, "in_app", "sent")}


def test_in_school_hours_a_child_is_told_in_app_at_once(ctx):
    organiser, problem, child, adult = _class_following_a_problem()
    entry = add_update(problem, organiser, publish_it=False)
    fan_out(db.session, update_id=entry.id, now=TUESDAY_NOON)
    db.session.commit()
    assert (child.id, "in_app", "sent") in states(entry.id)
    assert (child.id, "email", "pending") not in states(entry.id)


def test_the_inbox_and_unread_count_leave_out_held_notifications(client, login):
    organiser, problem, child, adult = _class_following_a_problem()
    entry = add_update(problem, organiser, publish_it=False)
    fan_out(db.session, update_id=entry.id, now=FRIDAY_EVENING)
    held = Notification.__table__.update().where(Notification.state == "held")
    db.session.execute(held.values(next_attempt_at=datetime(2100, 1, 1, tzinfo=timezone.utc)))
    db.session.commit()
    login(child)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Notifications (0)" in page and problem.title not in page
    db.session.execute(held.values(next_attempt_at=datetime(2020, 1, 6, 8, tzinfo=timezone.utc)))  # over
    db.session.commit()
    page = client.get("/notifications").get_data(as_text=True)
    assert "Notifications (1)" in page and problem.title in page


def test_pushing_to_a_child_is_refused_in_quiet_hours():
    class Person:
        def __init__(self, is_child):
            self.is_child = is_child

    assert not notify.may_notify_now(Person(True), FRIDAY_EVENING, LONDON_HOURS)
    assert notify.may_notify_now(Person(True), TUESDAY_NOON, LONDON_HOURS)
    assert notify.may_notify_now(Person(False), FRIDAY_EVENING, LONDON_HOURS)


def test_the_live_inbox_state_leaves_out_held_notifications_too(ctx):
    from notifications import live_inbox

    organiser, problem, child, adult = _class_following_a_problem()
    entry = add_update(problem, organiser, publish_it=False)
    fan_out(db.session, update_id=entry.id, now=FRIDAY_EVENING)
    held = Notification.__table__.update().where(Notification.state == "held")
    db.session.execute(held.values(next_attempt_at=datetime(2100, 1, 1, tzinfo=timezone.utc)))
    db.session.commit()
    state = live_inbox.states(db.session, [child.id, adult.id])
    assert state[child.id] == {"unread": 0, "latest": []}
    assert state[adult.id]["unread"] == 1
