"""Pure point maths: the same rules for everyone, testable without an app.

Every function here is deterministic integer arithmetic on its arguments; the ledger
(scoring/ledger.py) is what records the results.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

DEFAULT_DIFFICULTY_MULTIPLIERS: Mapping[str, float] = {"easy": 1.0, "medium": 1.5, "hard": 2.0}
DEFAULT_REVIEWER_POINTS = 1
MAX_AWARD = 10_000


class RuleError(ValueError):
    """Arguments no rule can score (negative points, an unknown difficulty ...)."""


def _round(value: float) -> int:
    """Half up, as people round: 1.5 x 25 = 37.5 -> 38."""
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def quest_award(points: int, difficulty: str,
                multipliers: Mapping[str, float] = DEFAULT_DIFFICULTY_MULTIPLIERS) -> int:
    """Points for completing a quest: its base points times its difficulty's multiplier."""
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise RuleError(f"Base points must be a whole number of at least 0, not {points!r}.")
    try:
        multiplier = multipliers[difficulty]
    except KeyError:
        raise RuleError(f"No multiplier for difficulty {difficulty!r}.") from None
    award = _round(points * multiplier)
    if award > MAX_AWARD:
        raise RuleError(f"An award of {award} points is more than the {MAX_AWARD} allowed.")
    return award


def dynamic_value(initial: int, minimum: int, decay: int, solves: int) -> int:
    """A quest's value after `solves` teams have solved it, as in capture-the-flag contests.

        value = initial - (initial - minimum) * (solves - 1)^2 / decay^2, never below minimum

    The first solver gets the full `initial`; the value falls slowly at first and faster as
    more teams solve it, reaching `minimum` when `decay + 1` teams have. Every team that
    solved the quest holds its current value (they are re-scored when it falls), so the
    order of solving does not matter, only how many solved it: easy quests become worth
    less, rare solves stay valuable.
    """
    if not 0 <= minimum <= initial:
        raise RuleError("The minimum must be between 0 and the initial value.")
    if decay < 1:
        raise RuleError("Decay must be at least 1 solve.")
    if solves < 1:
        return initial
    value = initial - (initial - minimum) * (solves - 1) ** 2 / decay**2
    return max(minimum, math.ceil(value))


def split_award(total: int, member_ids: Sequence[int], mode: str = "full") -> dict[int, int]:
    """What each member who took part in a team claim is credited.

    "full": each member gets the whole award (the team's points are counted once on the
    team board either way). "equal": the award is shared; the remainder goes one point
    each to the members in the order given, so the shares add up exactly to `total`.
    """
    if not member_ids:
        raise RuleError("A team award needs at least one member who took part.")
    if len(set(member_ids)) != len(member_ids):
        raise RuleError("A member is listed twice.")
    if mode == "full":
        return {member: total for member in member_ids}
    if mode == "equal":
        share, remainder = divmod(total, len(member_ids))
        return {member: share + (1 if i < remainder else 0) for i, member in enumerate(member_ids)}
    raise RuleError(f"Unknown split mode {mode!r}: use 'full' or 'equal'.")


def review_outcome(approvals: int, rejections: int, needed: int) -> str | None:
    """Peer review: 'approve' once `needed` reviewers approve, 'reject' once a majority of
    `needed` reject, otherwise None (still open)."""
    if needed < 1:
        raise RuleError("At least one review is needed.")
    if approvals >= needed:
        return "approve"
    if rejections > needed / 2:
        return "reject"
    return None


class ScoringSettings:
    """The configurable numbers of the scoring rules, read once from the app's config and
    passed to the services (which never read config themselves)."""

    __slots__ = ("multipliers", "reviewer_points", "team_split", "peer_review_level", "propose_quest_level",
                 "fix_cooldown_days", "burst_limit", "burst_hours")

    def __init__(self, *, multipliers: Mapping[str, float] = DEFAULT_DIFFICULTY_MULTIPLIERS,
                 reviewer_points: int = DEFAULT_REVIEWER_POINTS, team_split: str = "full",
                 peer_review_level: int = 2, propose_quest_level: int = 5, fix_cooldown_days: int = 30,
                 burst_limit: int = 8, burst_hours: int = 24):
        if team_split not in ("full", "equal"):
            raise RuleError(f"Unknown team split {team_split!r}: use 'full' or 'equal'.")
        self.multipliers = dict(multipliers)
        self.reviewer_points = reviewer_points
        self.team_split = team_split
        self.peer_review_level = peer_review_level
        self.propose_quest_level = propose_quest_level
        self.fix_cooldown_days = fix_cooldown_days  # integrity: one payout per fix cycle of a problem
        self.burst_limit = burst_limit  # integrity: approvals between the same people before an alert
        self.burst_hours = burst_hours

    @classmethod
    def from_config(cls, config: Mapping) -> ScoringSettings:
        return cls(multipliers=config.get("SCORING_MULTIPLIERS", DEFAULT_DIFFICULTY_MULTIPLIERS),
                   reviewer_points=config.get("SCORING_REVIEWER_POINTS", DEFAULT_REVIEWER_POINTS),
                   team_split=config.get("SCORING_TEAM_SPLIT", "full"),
                   peer_review_level=config.get("PEER_REVIEW_LEVEL", 2),
                   propose_quest_level=config.get("PROPOSE_QUEST_LEVEL", 5),
                   fix_cooldown_days=config.get("FIX_COOLDOWN_DAYS", 30),
                   burst_limit=config.get("APPROVAL_BURST_LIMIT", 8),
                   burst_hours=config.get("APPROVAL_BURST_HOURS", 24))


def parse_multipliers(raw: str) -> dict[str, float]:
    """'easy=1,medium=1.5,hard=2' -> {'easy': 1.0, 'medium': 1.5, 'hard': 2.0}."""
    result = {}
    for part in raw.split(","):
        name, sep, value = part.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if not sep or not name.strip() or not 0 < number <= 10:
            raise RuleError(f"Write difficulty multipliers like 'easy=1,medium=1.5,hard=2', not {raw!r}.")
        result[name.strip()] = number
    return result
