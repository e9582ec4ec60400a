"""The daily digest: one email per person with everything waiting, sent once."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from extensions import db
from notifications.delivery import digest_cutoff, send_digests
from notifications.services import fan_out
from tests.factories import make_organiser, make_user
from tests.notifications.helpers import RecordingSender, add_problem, add_update, follow, rows
from timeutil import utcnow


def _fanned(problem, author, *, now=None, **kw):
    entry = add_update(problem, author, publish_it=False, **kw)
    fan_out(db.session, update_id=entry.id, now=now)
    db.session.commit()
    return entry


def test_each_person_gets_one_digest_with_all_their_updates_once(ctx, app, outbox, runner):
    organiser, ann, bob, carl = make_organiser(), make_user(), make_user(), make_user()
    bench, light = add_problem(organiser, title="Broken bench"), add_problem(organiser, title="Dark lamp post")
    follow(ann, bench, delivery="digest")
    follow(ann, light, delivery="digest")
    follow(bob, light, delivery="digest")
    follow(carl, light)  # wants email at once: not part of any digest
    _fanned(bench, organiser, new_status="in_progress")
    _fanned(light, organiser, kind="comment", body="The council has ordered a new lamp.")
    _fanned(bench, organiser, new_status="fixed")

    report = send_digests(db.session, sender=outbox, max_attempts=5)

    assert report.sent == 2
    assert sorted(m["To"] for m in outbox.messages) == sorted([ann.email, bob.email])
    [to_ann] = outbox.to(ann.email)
    text = to_ann.get_body(("plain",)).get_content()
    assert to_ann["Subject"] == "[FixQuest] Your daily digest: 3 updates"
    assert "Broken bench is now in progress" in text and "Broken bench is now fixed" in text
    assert "The council has ordered a new lamp." in text
    assert to_ann["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert {n.state for n in rows(channel="email", user_id=ann.id)} == {"sent"}
    assert {n.state for n in rows(channel="email", user_id=carl.id)} == {"pending"}

    again = runner.invoke(args=["notifications", "digest"])
    assert "Digests sent 0" in again.output, again.output
    assert send_digests(db.session, sender=outbox, max_attempts=5).sent == 0
    assert len(outbox.messages) == 2


def test_a_failed_digest_waits_for_the_next_run(ctx):
    organiser, ann = make_organiser(), make_user()
    problem = add_problem(organiser)
    follow(ann, problem, delivery="digest")
    _fanned(problem, organiser)
    sender = RecordingSender(fail_times=1)

    first = send_digests(db.session, sender=sender, max_attempts=5)
    [row] = rows(channel="email")
    assert (first.sent, row.state, row.attempts) == (0, "digest", 1) and "said no" in row.last_error

    second = send_digests(db.session, sender=sender, max_attempts=5)
    assert second.sent == 1 and len(sender.messages) == 1
    assert rows(channel="email")[0].state == "sent"


def test_the_scheduled_digest_covers_only_what_waited_until_the_digest_hour(ctx, outbox):
    organiser, ann = make_organiser(), make_user()
    problem = add_problem(organiser)
    follow(ann, problem, delivery="digest")
    cutoff = utcnow()
    _fanned(problem, organiser, now=cutoff - timedelta(hours=1))
    _fanned(problem, organiser, now=cutoff + timedelta(minutes=1), new_status="in_progress")

    first = send_digests(db.session, sender=outbox, max_attempts=5, now=cutoff + timedelta(hours=1), cutoff=cutoff)
    later_same_day = send_digests(db.session, sender=outbox, max_attempts=5, now=cutoff + timedelta(hours=5),
                                  cutoff=cutoff)

    assert (first.sent, later_same_day.sent) == (1, 0)
    assert sorted(n.state for n in rows(channel="email")) == ["digest", "sent"]


def test_digest_cutoff_is_the_latest_local_digest_hour():
    summer_morning = datetime(2026, 6, 1, 7, 30, tzinfo=timezone.utc)  # 08:30 in London (BST)
    assert digest_cutoff(summer_morning, hour=7, timezone="Europe/London") == datetime(
        2026, 6, 1, 6, 0, tzinfo=timezone.utc)
    before_seven = datetime(2026, 6, 1, 5, 30, tzinfo=timezone.utc)  # 06:30 in London
    assert digest_cutoff(before_seven, hour=7, timezone="Europe/London") == datetime(
        2026, 5, 31, 6, 0, tzinfo=timezone.utc)
    winter = datetime(2026, 12, 1, 7, 30, tzinfo=timezone.utc)  # 07:30 GMT
    assert digest_cutoff(winter, hour=7, timezone="Europe/London") == datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)
