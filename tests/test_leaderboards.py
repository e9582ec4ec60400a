"""One contract, two backends: SQL and Redis sorted sets must rank identically."""
from __future__ import annotations

import os

import fakeredis
import pytest
import redis

from extensions import db, make_redis
from scoring import ledger
from scoring.leaderboards import RedisLeaderboard, SqlLeaderboard, UnknownBoard
from tests.factories import make_team, make_user


def _redis_client():
    url = os.environ.get("REDIS_URL")
    if url:
        return make_redis(url)
    return fakeredis.FakeRedis(decode_responses=True)


@pytest.fixture(params=["sql", "redis"])
def board(request, app, ctx):
    sql = SqlLeaderboard(lambda: db.engine)
    backend = sql if request.param == "sql" else RedisLeaderboard(_redis_client(), sql, prefix="test:")
    if backend.name == "redis":
        backend.client.flushdb()
    previous = app.extensions["fixquest.leaderboard"]
    app.extensions["fixquest.leaderboard"] = backend
    yield backend
    app.extensions["fixquest.leaderboard"] = previous


def pay(key, amount, *, user=None, team=None):
    ledger.award(db.session, key=key, amount=amount, reason="test", user_id=user.id if user else None,
                 team_id=team.id if team else None)
    db.session.commit()


def ranking(board_, name="participants"):
    return [(s.rank, s.member_id, s.points) for s in board_.top(name, limit=50)]


def test_more_points_rank_higher(board):
    a, b, c = make_user(), make_user(), make_user()
    pay("1", 10, user=a)
    pay("2", 30, user=b)
    pay("3", 20, user=c)
    pay("4", 15, user=a)
    assert ranking(board) == [(1, b.id, 30), (2, a.id, 25), (3, c.id, 20)]


def test_on_equal_points_whoever_got_there_first_ranks_higher(board):
    early, late = make_user(), make_user()
    pay("late-1", 5, user=late)
    pay("early-1", 20, user=early)
    pay("late-2", 15, user=late)  # late reaches 20 after early did
    assert ranking(board) == [(1, early.id, 20), (2, late.id, 20)]


def test_standing_of_gives_rank_and_points_or_none(board):
    a, b, nobody = make_user(), make_user(), make_user()
    pay("1", 10, user=a)
    pay("2", 40, user=b)
    assert board.standing_of("participants", a.id).rank == 2
    assert board.standing_of("participants", a.id).points == 10
    assert board.standing_of("participants", nobody.id) is None


def test_pages_through_the_board(board):
    users = [make_user() for _ in range(5)]
    for i, user in enumerate(users):
        pay(f"k{i}", 10 * (i + 1), user=user)
    page = board.top("participants", limit=2, offset=2)
    assert [(s.rank, s.member_id) for s in page] == [(3, users[2].id), (4, users[1].id)]


def test_team_board_counts_only_team_credits(board):
    captain = make_user()
    team = make_team(captain)
    pay("solo", 50, user=captain)
    pay("team", 20, user=captain, team=team)
    assert ranking(board, "teams") == [(1, team.id, 20)]
    assert ranking(board) == [(1, captain.id, 70)]


def test_rolled_back_award_never_shows(board):
    a = make_user()
    ledger.award(db.session, key="rolled", amount=99, reason="test", user_id=a.id)
    db.session.rollback()
    pay("kept", 1, user=a)
    assert ranking(board) == [(1, a.id, 1)]


def test_unknown_board_is_refused(board):
    with pytest.raises(UnknownBoard):
        board.top("villains")


def test_redis_rebuild_restores_a_lost_projection(app, ctx):
    sql = SqlLeaderboard(lambda: db.engine)
    backend = RedisLeaderboard(_redis_client(), sql, prefix="test:")
    app.extensions["fixquest.leaderboard"], previous = backend, app.extensions["fixquest.leaderboard"]
    try:
        a, b = make_user(), make_user()
        pay("1", 10, user=a)
        pay("2", 20, user=b)
        backend.client.flushdb()  # Redis lost everything
        assert backend.top("participants") == []
        assert backend.drift()  # and verify notices
        assert backend.rebuild() == 2
        assert backend.top("participants") == sql.top("participants")
        assert backend.drift() == []
    finally:
        app.extensions["fixquest.leaderboard"] = previous


def test_redis_refresh_with_older_data_cannot_overwrite_newer(app, ctx):
    sql = SqlLeaderboard(lambda: db.engine)
    backend = RedisLeaderboard(_redis_client(), sql, prefix="test:")
    backend.client.flushdb()
    a = make_user()
    pay("1", 10, user=a)
    zkey, vkey = backend._keys("participants")
    backend.refresh([("participants", a.id)])
    backend._cas(keys=[zkey, vkey], args=[a.id, 0, 0])  # a late writer that read before the award
    assert backend.standing_of("participants", a.id).points == 10


def test_redis_outage_falls_back_to_sql(app, ctx):
    sql = SqlLeaderboard(lambda: db.engine)
    dead = make_redis("redis://127.0.0.1:1/0")  # nothing listens there
    backend = RedisLeaderboard(dead, sql)
    a = make_user()
    pay("1", 10, user=a)  # the after-commit refresh fails quietly; the award stands
    assert [(s.member_id, s.points) for s in backend.top("participants")] == [(a.id, 10)]
    assert backend.standing_of("participants", a.id).rank == 1
