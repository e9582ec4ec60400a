"""Email delivery: exactly once, retries with backoff, racing workers, the message itself."""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update

from extensions import db
from notifications import mail
from notifications.delivery import CLAIM_LEASE, backoff, deliver_due
from notifications.models import Notification
from notifications.services import fan_out
from tests.factories import make_organiser, make_user
from tests.notifications.helpers import RecordingSender, add_problem, add_update, drain, follow, rows
from timeutil import utcnow


def _pending_email(organiser, *followers, problem=None):
    """An update fanned out (not yet delivered) to followers who want email at once."""
    problem = problem or add_problem(organiser)
    for person in followers:
        follow(person, problem)
    entry = add_update(problem, organiser, publish_it=False)
    fan_out(db.session, update_id=entry.id)
    db.session.commit()
    return entry


def test_backoff_grows_five_fold():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 5, 25, 125)]


def test_each_email_goes_out_once_however_often_delivery_runs(ctx, app, outbox, runner):
    organiser, ann, bob = make_organiser(), make_user(), make_user()
    problem = add_problem(organiser)
    follow(ann, problem)
    follow(bob, problem)
    add_update(problem, organiser)
    drain(app)

    assert sorted(m["To"] for m in outbox.messages) == sorted([ann.email, bob.email])
    again = deliver_due(db.session, sender=outbox, max_attempts=5)
    result = runner.invoke(args=["notifications", "deliver"])
    drain(app)

    assert again.sent == 0 and "emails sent 0" in result.output, result.output
    assert len(outbox.messages) == 2
    assert all(n.state == "sent" and n.attempts == 1 for n in rows(channel="email"))


def test_a_failed_send_is_retried_with_backoff_and_sent_once(ctx):
    organiser, ann = make_organiser(), make_user()
    _pending_email(organiser, ann)
    sender = RecordingSender(fail_times=2)
    t0 = utcnow()

    first = deliver_due(db.session, sender=sender, max_attempts=5, now=t0)
    [row] = rows(channel="email")
    assert (first.retrying, row.state, row.attempts) == (1, "pending", 1)
    assert row.next_attempt_at == t0 + timedelta(minutes=1) and "SMTP server said no" in row.last_error

    assert deliver_due(db.session, sender=sender, max_attempts=5, now=t0 + timedelta(seconds=30)).retrying == 0
    second = deliver_due(db.session, sender=sender, max_attempts=5, now=t0 + timedelta(minutes=1))
    [row] = rows(channel="email")
    assert second.retrying == 1 and row.attempts == 2 and row.next_attempt_at == t0 + timedelta(minutes=6)

    third = deliver_due(db.session, sender=sender, max_attempts=5, now=t0 + timedelta(minutes=6))
    later = deliver_due(db.session, sender=sender, max_attempts=5, now=t0 + timedelta(days=1))
    [row] = rows(channel="email")
    assert (third.sent, later.sent, row.state, row.attempts) == (1, 0, "sent", 3)
    assert len(sender.messages) == 1


def test_delivery_gives_up_after_the_last_attempt(ctx):
    organiser, ann = make_organiser(), make_user()
    _pending_email(organiser, ann)
    sender = RecordingSender(fail_times=99)
    now = utcnow()
    for _ in range(3):
        deliver_due(db.session, sender=sender, max_attempts=3, now=now)
        now += timedelta(days=1)
    [row] = rows(channel="email")
    assert (row.state, row.attempts, row.next_attempt_at) == ("failed", 3, None)
    assert deliver_due(db.session, sender=sender, max_attempts=3, now=now + timedelta(days=9)).sent == 0
    assert sender.attempts == 3


def test_a_claim_whose_worker_died_is_taken_again_after_its_lease(ctx):
    organiser, ann = make_organiser(), make_user()
    _pending_email(organiser, ann)
    t0 = utcnow()
    db.session.execute(update(Notification).where(Notification.channel == "email").values(
        state="sending", attempts=1, next_attempt_at=t0 + CLAIM_LEASE))
    db.session.commit()
    sender = RecordingSender()

    assert deliver_due(db.session, sender=sender, max_attempts=5, now=t0).sent == 0
    assert deliver_due(db.session, sender=sender, max_attempts=5, now=t0 + CLAIM_LEASE).sent == 1


def test_the_email_names_the_change_links_the_problem_and_offers_one_click_unsubscribe(ctx, app, outbox,
                                                                                    monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://fixquest.example.org/")
    organiser, ann = make_organiser(), make_user()
    problem = add_problem(organiser, title="Pothole on Broad Street")
    _pending_email(organiser, ann, problem=problem)

    deliver_due(db.session, sender=outbox, max_attempts=5)

    [message] = outbox.messages
    assert message["Subject"] == "[FixQuest] Pothole on Broad Street is now fixed"
    assert message["To"] == ann.email
    link = message["List-Unsubscribe"]
    assert link.startswith("<https://fixquest.example.org/unsubscribe/") and link.endswith(">")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"\nList-Unsubscribe: {link}\n" in message.as_string()  # a plain URL, not an encoded word
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"https://fixquest.example.org/problems/{problem.id}" in text
    assert link[1:-1] in text and link[1:-1] in html
    assert "open -> fixed" in text


def test_a_title_cannot_inject_email_headers(ctx, outbox):
    organiser, ann = make_organiser(), make_user()
    problem = add_problem(organiser, title="Bench\r\nBcc: everyone@example.org")
    _pending_email(organiser, ann, problem=problem)

    deliver_due(db.session, sender=outbox, max_attempts=5)

    [message] = outbox.messages
    assert message["Bcc"] is None and "\n" not in message["Subject"]


def test_without_smtp_host_email_is_written_to_the_log_and_counts_as_sent(ctx, caplog):
    organiser, ann = make_organiser(), make_user()
    _pending_email(organiser, ann)
    sender = mail.make_sender({"SMTP_HOST": None})

    with caplog.at_level(logging.INFO, logger="fixquest.mail"):
        report = deliver_due(db.session, sender=sender, max_attempts=5)

    assert isinstance(sender, mail.LogSender) and report.sent == 1
    assert any(ann.email in r.getMessage() and "is now fixed" in r.getMessage() for r in caplog.records)


def test_the_smtp_sender_logs_in_over_starttls_and_sends(monkeypatch):
    calls = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            calls.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            calls.append(("quit",))

        def starttls(self, context):
            calls.append(("starttls",))

        def login(self, user, password):
            calls.append(("login", user, password))

        def send_message(self, message):
            calls.append(("send", message["To"]))

    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    sender = mail.make_sender({"SMTP_HOST": "smtp.example.org", "SMTP_PORT": 587, "SMTP_USERNAME": "fq",
                               "SMTP_PASSWORD": "pw", "SMTP_USE_TLS": True})
    message = mail.EmailMessage()
    message["To"] = "ann@example.org"
    sender.send(message)

    assert calls == [("connect", "smtp.example.org", 587), ("starttls",), ("login", "fq", "pw"),
                     ("send", "ann@example.org"), ("quit",)]


def test_racing_workers_send_each_email_once(pg):
    """Four workers drain the same 120 emails at once on PostgreSQL: each goes out once."""
    organiser = make_organiser()
    problem = add_problem(organiser)
    followers = [make_user() for _ in range(3)]
    entries = []
    for i in range(40):
        entries.append(add_update(problem, organiser, kind="comment", body=f"Note number {i}.", publish_it=False))
    for person in followers:
        follow(person, problem)
    for entry in entries:
        fan_out(db.session, update_id=entry.id)
    db.session.commit()
    sender = RecordingSender(delay=0.002)
    start = threading.Barrier(4)
    errors = []

    def worker():
        try:
            with pg.app_context():
                start.wait()
                deliver_due(db.session, sender=sender, max_attempts=5, batch_size=7)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    sent = [(m["To"], m.get_body(("plain",)).get_content().split("\n")[2]) for m in sender.messages]
    assert len(sent) == 120 and len(set(sent)) == 120
    assert len(sender.threads) > 1  # they really did share the work
    assert all(n.state == "sent" and n.attempts == 1 for n in rows(channel="email"))


def test_racing_fan_outs_create_each_notification_once(pg):
    organiser = make_organiser()
    problem = add_problem(organiser)
    for _ in range(30):
        follow(make_user(), problem)
    update_id = add_update(problem, organiser, publish_it=False).id  # threads must not touch this session
    start = threading.Barrier(4)
    results, errors = [], []

    def worker():
        try:
            with pg.app_context():
                start.wait()
                results.append(fan_out(db.session, update_id=update_id))
                db.session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert sorted(r.claimed for r in results) == [False, False, False, True]
    assert len(rows(update_id=update_id)) == 60


@pytest.mark.parametrize("state", ["sent", "failed", "cancelled", "digest"])
def test_rows_not_pending_are_never_sent(ctx, state):
    organiser, ann = make_organiser(), make_user()
    entry = add_update(add_problem(organiser), organiser, publish_it=False)
    db.session.execute(insert(Notification.__table__).values(
        update_id=entry.id, user_id=ann.id, channel="email", state=state, attempts=0, created_at=utcnow()))
    db.session.commit()
    sender = RecordingSender()
    assert deliver_due(db.session, sender=sender, max_attempts=5).sent == 0 and sender.messages == []
    assert db.session.scalar(select(Notification.state)) == state


def test_the_lease_a_worker_takes_on_its_emails_is_configurable(ctx, app):
    """NOTIFY_CLAIM_LEASE_SECONDS: how soon a dead worker's claimed emails are taken again."""
    assert app.config["NOTIFY_CLAIM_LEASE_SECONDS"] == 600
    organiser, ann = make_organiser(), make_user()
    _pending_email(organiser, ann)
    t0, short = utcnow(), timedelta(seconds=10)

    class Dying(RecordingSender):
        def send(self, message):
            raise SystemExit("the worker is killed")

    with pytest.raises(SystemExit):
        deliver_due(db.session, sender=Dying(), max_attempts=5, now=t0, lease=short)
    db.session.rollback()
    sender = RecordingSender()
    assert deliver_due(db.session, sender=sender, max_attempts=5, now=t0 + short - timedelta(seconds=1)).sent == 0
    assert deliver_due(db.session, sender=sender, max_attempts=5, now=t0 + short).sent == 1


def test_the_smtp_sender_builds_its_tls_context_once_and_not_at_all_without_tls(monkeypatch):
    built, contexts = [], []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

        def starttls(self, context):
            contexts.append(context)

        def send_message(self, message):
            pass

    monkeypatch.setattr(mail.smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(mail.ssl, "create_default_context", lambda: built.append(object()) or built[-1])
    plain = mail.make_sender({"SMTP_HOST": "relay.local", "SMTP_PORT": 25, "SMTP_USE_TLS": False})
    for _ in range(3):
        plain.send(mail.EmailMessage())
    assert built == []
    secure = mail.make_sender({"SMTP_HOST": "smtp.example.org", "SMTP_PORT": 587, "SMTP_USE_TLS": True})
    for _ in range(3):
        secure.send(mail.EmailMessage())
    assert len(built) == 1 and contexts == built * 3


def test_an_email_sent_again_after_a_dead_worker_is_the_same_message(ctx, app):
    """The crash window (accepted by the server, not yet recorded) re-sends the email with the
    same Message-ID, so mailboxes keep one; different notifications have different ones."""
    organiser, ann, bob = make_organiser(), make_user(), make_user()
    _pending_email(organiser, ann)
    t0, lease = utcnow(), timedelta(seconds=10)

    class DiesAfterSending(RecordingSender):
        def send(self, message):
            super().send(message)
            raise SystemExit("killed before the commit")

    first = DiesAfterSending()
    with pytest.raises(SystemExit):
        deliver_due(db.session, sender=first, max_attempts=5, now=t0, lease=lease)
    db.session.rollback()
    again = RecordingSender()
    assert deliver_due(db.session, sender=again, max_attempts=5, now=t0 + lease).sent == 1
    assert first.messages[0]["Message-ID"] == again.messages[0]["Message-ID"]
    assert again.messages[0]["Message-ID"].startswith("<fixquest.notification.")


def test_a_batch_slower_than_its_lease_hands_back_what_it_has_not_sent(ctx):
    """Another worker may take rows whose lease lapsed; a slow worker hands them back first,
    so each email still goes out once (and all of them go out)."""
    organiser = make_organiser()
    people = [make_user() for _ in range(3)]
    _pending_email(organiser, *people)
    sender = RecordingSender(delay=0.3)
    report = deliver_due(db.session, sender=sender, max_attempts=5, lease=timedelta(seconds=0.5))
    assert report.sent == 3
    assert sorted(str(m["To"]) for m in sender.messages) == sorted(p.email for p in people)
    assert len({m["Message-ID"] for m in sender.messages}) == 3
    assert {row.state for row in rows(channel="email")} == {"sent"}
