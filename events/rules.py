"""Pure rules for events: field checks, dynamic values and labels (no app, no SQL)."""
from __future__ import annotations

import math
from datetime import datetime

from challenges.rules import _text, coordinate_problems
from events.models import EventMode

TITLE_MAX = 120
DESCRIPTION_MAX = 5000
PLACE_MAX = 200
TEAM_SIZE_MAX = 50
# When an event switches dynamic values on, each of its quests falls from its points to
# DYNAMIC_MIN_SHARE of them, reached after DYNAMIC_DECAY + 1 solves (scoring.rules.dynamic_value).
DYNAMIC_MIN_SHARE = 0.25
DYNAMIC_DECAY = 5


def event_problems(*, title, description, place, lat, lon, starts_at: datetime | None, ends_at: datetime | None,
                   registration_opens_at: datetime | None, registration_closes_at: datetime | None,
                   mode, min_team_size, max_team_size, freeze_at: datetime | None) -> dict[str, list[str]]:
    """Every problem with an event's fields, by field name."""
    fields: dict[str, list[str]] = {}
    _text(fields, "title", title, required=True, minimum=3, maximum=TITLE_MAX)
    _text(fields, "description", description, required=True, maximum=DESCRIPTION_MAX)
    _text(fields, "place", place, required=True, maximum=PLACE_MAX)
    if lat is not None or lon is not None:
        fields.update(coordinate_problems(lat, lon))
    if mode not in {m.value for m in EventMode}:
        fields["mode"] = ["Choose solo or team."]
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at),
                        ("registration_opens_at", registration_opens_at),
                        ("registration_closes_at", registration_closes_at)):
        if value is None:
            fields[name] = ["Enter a date and time."]
    if starts_at and ends_at and ends_at <= starts_at:
        fields["ends_at"] = ["The event must end after it starts."]
    if registration_opens_at and registration_closes_at and registration_closes_at <= registration_opens_at:
        fields["registration_closes_at"] = ["Registration must close after it opens."]
    elif registration_closes_at and ends_at and registration_closes_at > ends_at:
        fields["registration_closes_at"] = ["Registration must close by the end of the event."]
    if freeze_at is not None and starts_at and ends_at and not starts_at < freeze_at < ends_at:
        fields["freeze_at"] = ["The scoreboard freeze must fall after the start and before the end."]
    fields.update(team_size_problems(mode, min_team_size, max_team_size))
    return fields


def team_size_problems(mode, min_team_size, max_team_size) -> dict[str, list[str]]:
    if mode != EventMode.team.value:
        return {}
    fields: dict[str, list[str]] = {}
    for name, value in (("min_team_size", min_team_size), ("max_team_size", max_team_size)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= TEAM_SIZE_MAX:
            fields[name] = [f"Enter a whole number from 1 to {TEAM_SIZE_MAX}."]
    if not fields and max_team_size < min_team_size:
        fields["max_team_size"] = ["The largest team size cannot be below the smallest."]
    return fields


def dynamic_settings(points: int) -> tuple[int, int]:
    """(minimum, decay) for a quest worth `points` in an event with dynamic values."""
    return max(1, min(points, math.ceil(points * DYNAMIC_MIN_SHARE))), DYNAMIC_DECAY


def team_size_phrase(min_size: int, max_size: int) -> str:
    if min_size == max_size:
        return f"exactly {min_size} {'person' if min_size == 1 else 'people'}"
    return f"{min_size} to {max_size} people"
