"""Fixtures for the notification tests (helpers are in helpers.py)."""
from __future__ import annotations

import pytest

from notifications.jobs import ManualJobQueue, ThreadJobQueue
from tests.notifications.helpers import RecordingSender


@pytest.fixture
def outbox(app, monkeypatch) -> RecordingSender:
    sender = RecordingSender()
    monkeypatch.setitem(app.extensions, "fixquest.mail", sender)
    return sender


@pytest.fixture
def thread_jobs(app, monkeypatch) -> ThreadJobQueue:
    """The production queue of an app without Redis: a thread pool in this process."""
    jobs = ThreadJobQueue(app, workers=2)
    monkeypatch.setitem(app.extensions, "fixquest.jobs", jobs)
    yield jobs
    assert jobs.join(30), "background jobs did not finish"


@pytest.fixture(autouse=True)
def _forget_queued_jobs(app):
    """Jobs a test queued but did not run do not carry over into the next test."""
    yield
    jobs = app.extensions["fixquest.jobs"]
    if isinstance(jobs, ManualJobQueue):
        jobs.clear()
