"""Times as people read them: in the site's zone, whatever the season."""
from __future__ import annotations

from datetime import datetime, timezone

from timeutil import local_text


def test_summer_and_winter_times_are_shown_in_the_sites_zone():
    assert local_text(datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc), "Europe/London") == "1 Jul 2026, 13:00"
    assert local_text(datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc), "Europe/London") == "1 Dec 2026, 12:00"


def test_inside_the_app_the_configured_zone_is_used(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "TIMEZONE", "Europe/Paris")
    assert local_text(datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)) == "1 Dec 2026, 13:00"
    assert local_text(None) == ""
