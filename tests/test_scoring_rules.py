"""The point rules, without an app."""
import pytest

from scoring import rules


@pytest.mark.parametrize("difficulty,points,expected", [
    ("easy", 50, 50), ("medium", 50, 75), ("hard", 50, 100), ("medium", 25, 38), ("medium", 1, 2), ("hard", 0, 0),
])
def test_difficulty_multiplies_the_base_points(difficulty, points, expected):
    assert rules.quest_award(points, difficulty) == expected


def test_multipliers_are_configurable_and_bad_input_is_refused():
    assert rules.quest_award(40, "hard", {"hard": 3}) == 120
    for bad in (-1, 2.5, True, "50"):
        with pytest.raises(rules.RuleError):
            rules.quest_award(bad, "easy")
    with pytest.raises(rules.RuleError):
        rules.quest_award(10, "legendary")
    with pytest.raises(rules.RuleError):
        rules.quest_award(10_000, "hard")  # absurd awards are refused


def test_dynamic_value_falls_from_initial_to_minimum():
    values = [rules.dynamic_value(500, 100, 10, n) for n in range(1, 15)]
    assert values[0] == 500 and values[10] == 100 and values[-1] == 100
    assert all(a >= b for a, b in zip(values, values[1:]))  # never rises
    assert rules.dynamic_value(500, 100, 10, 0) == 500
    assert rules.dynamic_value(500, 100, 10, 2) == 496  # slowly at first
    for bad in ((100, 200, 10, 1), (100, 50, 0, 1)):
        with pytest.raises(rules.RuleError):
            rules.dynamic_value(*bad)


def test_team_split_full_or_equal_adds_up():
    assert rules.split_award(90, [3, 1, 2], "full") == {3: 90, 1: 90, 2: 90}
    shares = rules.split_award(100, [3, 1, 2], "equal")
    assert shares == {3: 34, 1: 33, 2: 33} and sum(shares.values()) == 100
    with pytest.raises(rules.RuleError):
        rules.split_award(10, [], "equal")
    with pytest.raises(rules.RuleError):
        rules.split_award(10, [1, 1], "equal")
    with pytest.raises(rules.RuleError):
        rules.split_award(10, [1], "halves")


@pytest.mark.parametrize("approvals,rejections,needed,outcome", [
    (2, 0, 2, "approve"), (1, 0, 2, None), (1, 1, 2, None), (0, 2, 2, "reject"), (1, 2, 3, "reject"),
    (0, 1, 3, None), (3, 0, 3, "approve"), (0, 1, 1, "reject"),
])
def test_peer_review_outcome(approvals, rejections, needed, outcome):
    assert rules.review_outcome(approvals, rejections, needed) == outcome
