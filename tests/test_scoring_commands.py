"""`flask scoring rebuild` and `flask scoring verify` keep Redis honest to the ledger."""
from __future__ import annotations

import pytest

from extensions import db
from scoring.leaderboards import RedisLeaderboard, SqlLeaderboard
from tests.factories import approve, make_claim, make_organiser, make_quest, make_user
from tests.test_leaderboards import _redis_client


@pytest.fixture
def redis_board(app, ctx):
    backend = RedisLeaderboard(_redis_client(), SqlLeaderboard(lambda: db.engine), prefix="cli:")
    backend.client.flushdb()
    previous = app.extensions["fixquest.leaderboard"]
    app.extensions["fixquest.leaderboard"] = backend
    yield backend
    app.extensions["fixquest.leaderboard"] = previous


def test_verify_passes_after_approvals_and_fails_on_drift_until_rebuilt(runner, redis_board):
    organiser = make_organiser()
    for _ in range(3):
        approve(organiser, make_claim(make_user(), make_quest(organiser), submit=True))
    ok = runner.invoke(args=["scoring", "verify"])
    assert ok.exit_code == 0 and "match" in ok.output

    redis_board.client.zadd(redis_board._keys("participants")[0], {"999": 5})  # someone tampers
    redis_board.client.delete(redis_board._keys("teams")[0])
    drift = runner.invoke(args=["scoring", "verify"])
    assert drift.exit_code == 1 and "member 999" in drift.output

    rebuilt = runner.invoke(args=["scoring", "rebuild"])
    assert rebuilt.exit_code == 0 and "4 standings" in rebuilt.output  # 3 players and the reviewer
    assert runner.invoke(args=["scoring", "verify"]).exit_code == 0


def test_without_redis_the_commands_say_there_is_nothing_to_do(app, runner, ctx):
    previous = app.extensions["fixquest.leaderboard"]
    app.extensions["fixquest.leaderboard"] = SqlLeaderboard(lambda: db.engine)
    try:
        assert "nothing to rebuild" in runner.invoke(args=["scoring", "rebuild"]).output
        assert "nothing can drift" in runner.invoke(args=["scoring", "verify"]).output
    finally:
        app.extensions["fixquest.leaderboard"] = previous
