"""`flask scoring rebuild` and `flask scoring verify` keep Redis honest to the ledger, in
every live window and scope."""
from __future__ import annotations

from datetime import timedelta

import pytest


from extensions import db
from scoring import windows
from scoring.leaderboards import Scope, SqlLeaderboard
from scoring.models import Season
from tests.factories import approve, make_claim, make_organiser, make_quest, make_team, make_user
from timeutil import utcnow


def test_verify_passes_after_approvals_and_fails_on_drift_until_rebuilt(runner, redis_board):
    organiser = make_organiser()
    for _ in range(3):
        approve(organiser, make_claim(make_user(), make_quest(organiser), submit=True))
    ok = runner.invoke(args=["scoring", "verify"])
    assert ok.exit_code == 0 and "match" in ok.output

    redis_board.client.zadd(redis_board.keys("participants").public, {"999": 5})  # someone tampers
    redis_board.client.delete(redis_board.keys("participants", "week").public)
    drift = runner.invoke(args=["scoring", "verify"])
    assert drift.exit_code == 1 and "member 999" in drift.output
    assert "participants week:" in drift.output

    rebuilt = runner.invoke(args=["scoring", "rebuild"])
    # Every row is from now, so each participant stands in all-time, this week and this month.
    on_board = redis_board.sql.count("participants") + redis_board.sql.count("teams")
    assert rebuilt.exit_code == 0 and f"{3 * on_board} standings written" in rebuilt.output
    assert runner.invoke(args=["scoring", "verify"]).exit_code == 0


def test_rebuild_and_verify_cover_weeks_months_seasons_and_team_scopes(runner, redis_board):
    organiser, player = make_organiser(), make_user()
    team = make_team(player)
    today = windows.local_date(utcnow(), "Europe/London")
    season = Season(name="This term", starts_on=today - timedelta(days=7), ends_on=today + timedelta(days=7))
    db.session.add(season)
    db.session.commit()
    approve(organiser, make_claim(player, make_quest(organiser, mode="team"), team=team, submit=True))
    redis_board.client.flushdb()

    drift = runner.invoke(args=["scoring", "verify"])
    assert drift.exit_code == 1
    for label in ("participants all", "participants week:", "participants month:", f"season:{season.id}",
                  "teams all", f"participants team {team.id} week:"):
        assert label in drift.output, label

    rebuilt = runner.invoke(args=["scoring", "rebuild"])
    assert rebuilt.exit_code == 0
    assert "week:" in rebuilt.output and "month:" in rebuilt.output and f"season:{season.id}" in rebuilt.output
    verified = runner.invoke(args=["scoring", "verify"])
    assert verified.exit_code == 0 and "match" in verified.output
    for window in ("all", "week", "month", f"season:{season.id}"):
        assert redis_board.client.exists(redis_board.keys("participants", window, Scope("team", team.id)).ready)
        assert redis_board.client.exists(redis_board.keys("teams", window).ready)


@pytest.mark.board_swapped
def test_without_redis_the_commands_say_there_is_nothing_to_do(app, runner, ctx):
    previous = app.extensions["fixquest.leaderboard"]
    app.extensions["fixquest.leaderboard"] = SqlLeaderboard(lambda: db.engine)
    try:
        assert "nothing to rebuild" in runner.invoke(args=["scoring", "rebuild"]).output
        assert "nothing can drift" in runner.invoke(args=["scoring", "verify"]).output
    finally:
        app.extensions["fixquest.leaderboard"] = previous
