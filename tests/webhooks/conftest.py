"""Fixtures for the webhook tests."""
from __future__ import annotations

import pytest

from tests.notifications.helpers import RecordingSender
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def outbox(app, monkeypatch) -> RecordingSender:
    sender = RecordingSender()
    monkeypatch.setitem(app.extensions, "fixquest.mail", sender)
    return sender
