"""Publishing only queues: the request that changes a problem never waits for delivery,
and work whose job was lost is found again."""
from __future__ import annotations

import threading
import time

import pytest
from extensions import db
from notifications.jobs import RqJobQueue, ThreadJobQueue
from notifications.models import NotificationFanout
from tests.factories import make_organiser, make_user
from tests.notifications.helpers import RecordingSender, add_problem, add_update, drain, follow, rows


@pytest.fixture(params=["configured", "threads"])
def jobs(request, app):
    """The app's own queue (RQ with REDIS_URL, else the test queue) and the in-process
    thread pool that serves a production app without Redis."""
    if request.param == "threads":
        return request.getfixturevalue("thread_jobs")
    return app.extensions["fixquest.jobs"]


def test_the_status_change_request_returns_before_the_email_is_sent(app, jobs, client, login, monkeypatch):
    organiser, ann = make_organiser(), make_user()
    problem = add_problem(organiser)
    follow(ann, problem)
    gate = threading.Event()  # the mail server answers only when the test says so
    sender = RecordingSender(gate=gate)
    monkeypatch.setitem(app.extensions, "fixquest.mail", sender)
    login(organiser)

    started = time.perf_counter()
    answer = client.post(f"/problems/{problem.id}/status", data={"status": "fixed", "note": "Filled in."})
    took = time.perf_counter() - started

    assert answer.status_code == 302 and took < 5
    assert sender.messages == []  # the request did not deliver anything itself
    gate.set()
    drain(app)
    [message] = sender.messages
    assert message["To"] == ann.email and "is now fixed" in message["Subject"]
    assert {(n.channel, n.state) for n in rows(user_id=ann.id)} == {("in_app", "sent"), ("email", "sent")}


def test_a_slow_mail_server_does_not_slow_the_commit(app, thread_jobs, ctx, monkeypatch):
    organiser, ann = make_organiser(), make_user()
    problem = add_problem(organiser)
    follow(ann, problem)
    monkeypatch.setitem(app.extensions, "fixquest.mail", RecordingSender(delay=2.0))

    started = time.perf_counter()
    add_update(problem, organiser)  # add, flush, publish, commit
    took = time.perf_counter() - started

    assert took < 1.0
    drain(app)
    assert [n.state for n in rows(channel="email")] == ["sent"]


class DroppingQueue:
    """A job queue that loses every job (a crash between commit and enqueue)."""

    name = "dropping"

    def enqueue(self, func, *args):
        pass

    def enqueue_in(self, delay, func, *args):
        pass


def test_deliver_finds_updates_whose_job_was_lost(app, ctx, outbox, runner, monkeypatch):
    organiser, ann = make_organiser(), make_user()
    problem = add_problem(organiser)
    follow(ann, problem)
    monkeypatch.setitem(app.extensions, "fixquest.jobs", DroppingQueue())
    entry = add_update(problem, organiser)
    assert rows() == [] and db.session.get(NotificationFanout, entry.id).done_at is None

    result = runner.invoke(args=["notifications", "deliver"])
    again = runner.invoke(args=["notifications", "deliver"])

    assert "Fanned out 1 updates; emails sent 1" in result.output, result.output
    assert "Fanned out 0 updates; emails sent 0" in again.output, again.output
    assert [m["To"] for m in outbox.messages] == [ann.email]


def test_a_redis_outage_runs_the_job_in_process(app):
    ran = threading.Event()
    fallback = ThreadJobQueue(app, workers=1)
    jobs = RqJobQueue("redis://127.0.0.1:1/0", fallback=fallback)  # nothing listens on port 1

    jobs.enqueue(ran.set)

    assert fallback.join(10) and ran.is_set()


def test_the_worker_command_in_burst_mode_runs_what_is_queued(app, ctx, outbox, runner):
    organiser, ann = make_organiser(), make_user()
    problem = add_problem(organiser)
    follow(ann, problem)
    add_update(problem, organiser)

    result = runner.invoke(args=["notifications", "worker", "--burst"])
    drain(app)

    assert result.exit_code == 0, result.output
    assert [m["To"] for m in outbox.messages] == [ann.email]
