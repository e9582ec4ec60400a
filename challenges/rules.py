"""Pure validation rules for problems and quests. Each returns {field: [messages]}."""
from __future__ import annotations

import math
from datetime import datetime

from flask_babel import gettext as _

from challenges.models import Difficulty, QuestMode, ReviewMode

TITLE_MAX = 120
DESCRIPTION_MAX = 5000
ADDRESS_MAX = 200
BRIEF_MAX = 5000
EVIDENCE_WANTED_MAX = 500
EVIDENCE_MAX = 5000
REASON_MAX = 1000
POINTS_MIN, POINTS_MAX = 1, 1000


def storable(value: str) -> bool:
    """Text every database can hold: no NUL character (PostgreSQL refuses it) and no lone
    surrogate (not Unicode text at all, so it cannot be encoded as UTF-8)."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(fields: dict, name: str, value: str | None, *, required: bool, maximum: int,
          minimum: int = 1) -> None:
    value = (value or "").strip()
    if not value:
        if required:
            fields.setdefault(name, []).append(_("This field is required."))
        return
    if not storable(value):
        fields.setdefault(name, []).append("Remove the invisible control character (NUL) or broken character "
                                           "from this text.")
        return
    if len(value) < minimum:
        fields.setdefault(name, []).append(_("Write at least %(number)d characters.", number=minimum))
    if len(value) > maximum:
        fields.setdefault(name, []).append(_("Keep this to %(number)d characters or fewer.", number=maximum))


def coordinate_problems(lat, lon) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for name, value, limit in (("lat", lat, 90), ("lon", lon, 180)):
        if value is None:
            fields[name] = [_("This field is required.")]
        elif not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            fields[name] = [_("Enter a number.")]
        elif not -limit <= value <= limit:
            fields[name] = [_("Latitude must be between -%(limit)d and %(limit)d.", limit=limit) if name == "lat"
                            else _("Longitude must be between -%(limit)d and %(limit)d.", limit=limit)]
    return fields


def problem_problems(*, title, description, category, lat, lon, address,
                     categories) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    _text(fields, "title", title, required=True, minimum=3, maximum=TITLE_MAX)
    _text(fields, "description", description, required=True, maximum=DESCRIPTION_MAX)
    _text(fields, "address", address, required=False, maximum=ADDRESS_MAX)
    if category not in categories:
        fields["category"] = [_("Choose one of: %(categories)s.", categories=", ".join(categories))]
    fields.update(coordinate_problems(lat, lon))
    return fields


def review_problems(*, review_mode, peer_reviews_needed, points, dynamic_min_points,
                    dynamic_decay) -> dict[str, list[str]]:
    """How a quest is reviewed and whether its value is dynamic."""
    fields: dict[str, list[str]] = {}
    if review_mode not in {m.value for m in ReviewMode}:
        fields["review_mode"] = ["Choose organiser or peer review."]
    if (isinstance(peer_reviews_needed, bool) or not isinstance(peer_reviews_needed, int)
            or not 1 <= peer_reviews_needed <= 10):
        fields["peer_reviews_needed"] = ["Ask for 1 to 10 peer reviews."]
    if (dynamic_min_points is None) != (dynamic_decay is None):
        fields["dynamic_min_points"] = ["Give both a minimum value and a decay, or neither."]
    elif dynamic_min_points is not None:
        if (isinstance(dynamic_min_points, bool) or not isinstance(dynamic_min_points, int)
                or not isinstance(points, int) or not 0 <= dynamic_min_points <= points):
            fields["dynamic_min_points"] = ["The minimum value must be between 0 and the quest's points."]
        if isinstance(dynamic_decay, bool) or not isinstance(dynamic_decay, int) or not 1 <= dynamic_decay <= 1000:
            fields["dynamic_decay"] = ["Decay is a number of solves from 1 to 1000."]
    return fields


def quest_problems(*, title, brief, points, difficulty, mode, evidence_wanted,
                   starts_at: datetime | None, ends_at: datetime | None,
                   now: datetime) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    _text(fields, "title", title, required=True, minimum=3, maximum=TITLE_MAX)
    _text(fields, "brief", brief, required=True, maximum=BRIEF_MAX)
    _text(fields, "evidence_wanted", evidence_wanted, required=True, maximum=EVIDENCE_WANTED_MAX)
    if not isinstance(points, int) or isinstance(points, bool):
        fields["points"] = ["Enter a whole number of points."]
    elif not POINTS_MIN <= points <= POINTS_MAX:
        fields["points"] = [f"Points must be between {POINTS_MIN} and {POINTS_MAX}."]
    if difficulty not in {d.value for d in Difficulty}:
        fields["difficulty"] = ["Choose easy, medium or hard."]
    if mode not in {m.value for m in QuestMode}:
        fields["mode"] = ["Choose solo or team."]
    if ends_at is not None and ends_at <= now:
        fields["ends_at"] = ["The end time must be in the future."]
    elif ends_at is not None and starts_at is not None and ends_at <= starts_at:
        fields["ends_at"] = ["The end time must be after the start time."]
    return fields
