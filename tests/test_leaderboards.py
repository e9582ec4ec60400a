"""One contract, two backends: SQL and Redis sorted sets must rank identically, in every
window (all-time, week, month, season) and scope (the whole board, one team's members)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update

from accounts import services as accounts
from extensions import db, make_redis
from scoring import ledger, windows
from scoring.leaderboards import (RedisLeaderboard, Scope, SqlLeaderboard, UnknownBoard, UnknownScope,
                                  set_hidden_from_boards)
from scoring.models import LedgerEntry, Season
from scoring.windows import UnknownWindow
from tests.factories import make_team, make_user
from tests.querycount import counting
from timeutil import utcnow

ZONE = "Europe/London"


def _install(app, backend):
    previous = app.extensions["fixquest.leaderboard"]
    app.extensions["fixquest.leaderboard"] = backend
    return previous


def pay(key, amount, *, user=None, team=None):
    ledger.award(db.session, key=key, amount=amount, reason="test", user_id=user.id if user else None,
                 team_id=team.id if team else None)
    db.session.commit()


def backdate(board_, moves: dict[str, datetime]) -> None:
    """Move ledger rows in time (as if they had been written then) and rebuild the projection,
    which only ever sees rows written now."""
    for key, when in moves.items():
        db.session.execute(update(LedgerEntry).where(LedgerEntry.idempotency_key == key).values(created_at=when))
    db.session.commit()
    board_.rebuild()


def make_season(name: str, starts_on: date, ends_on: date) -> Season:
    season = Season(name=name, starts_on=starts_on, ends_on=ends_on)
    db.session.add(season)
    db.session.commit()
    return season


def today() -> date:
    return windows.local_date(utcnow(), ZONE)


def ranking(board_, name="participants", **where):
    return [(s.rank, s.member_id, s.points) for s in board_.top(name, limit=50, **where)]


def places(around):
    return [(s.rank, s.member_id) for s in around.rows]


# --- ranking -------------------------------------------------------------------------------

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


def test_boards_carry_public_names(board):
    a = make_user(name="Kind Kestrel")
    team = make_team(a, name="Harbour Heroes")
    pay("1", 10, user=a, team=team)
    assert [s.name for s in board.top("participants")] == ["Kind Kestrel"]
    assert [s.name for s in board.top("teams")] == ["Harbour Heroes"]
    assert board.around("participants", a.id).me.name == "Kind Kestrel"


def test_a_new_display_name_shows_on_the_boards(board):
    a = make_user(name="Old Name")
    pay("1", 10, user=a)
    a.display_name = "New Name"
    db.session.commit()
    assert board.top("participants")[0].name == "New Name"


def test_reversals_count_against_the_total(board):
    a, b = make_user(), make_user()
    pay("1", 30, user=a)
    pay("2", 20, user=b)
    entry = db.session.scalar(db.select(LedgerEntry).where(LedgerEntry.idempotency_key == "1"))
    ledger.reverse(db.session, entry=entry, reason="fraud")
    db.session.commit()
    assert ranking(board) == [(1, b.id, 20), (2, a.id, 0)]


def test_pages_through_the_board(board):
    users = [make_user() for _ in range(5)]
    for i, user in enumerate(users):
        pay(f"k{i}", 10 * (i + 1), user=user)
    page = board.top("participants", limit=2, offset=2)
    assert [(s.rank, s.member_id) for s in page] == [(3, users[2].id), (4, users[1].id)]
    assert board.count("participants") == 5
    assert board.top("participants", limit=2, offset=5) == []


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


# --- windows -------------------------------------------------------------------------------

def test_entries_from_last_week_do_not_count_this_week(board):
    a, b = make_user(), make_user()
    pay("a-old", 100, user=a)
    pay("a-new", 5, user=a)
    pay("b-new", 20, user=b)
    backdate(board, {"a-old": utcnow() - timedelta(days=8)})
    assert ranking(board, window="week") == [(1, b.id, 20), (2, a.id, 5)]
    assert ranking(board, window="all") == [(1, a.id, 105), (2, b.id, 20)]
    pay("a-more", 30, user=a)  # written after the rebuild: through the after-commit refresh
    assert ranking(board, window="week") == [(1, a.id, 35), (2, b.id, 20)]
    assert board.count("participants", "week") == 2


def test_entries_from_earlier_months_do_not_count_this_month(board):
    a, b = make_user(), make_user()
    pay("a-old", 100, user=a)
    pay("b-new", 20, user=b)
    backdate(board, {"a-old": utcnow() - timedelta(days=40)})
    assert ranking(board, window="month") == [(1, b.id, 20)]
    assert board.standing_of("participants", a.id, window="month") is None
    assert board.standing_of("participants", a.id, window="all").rank == 1


def test_a_running_season_counts_only_rows_inside_its_dates(board):
    season = make_season("Autumn term", today() - timedelta(days=20), today() + timedelta(days=5))
    inside_now, inside_before, outside = make_user(), make_user(), make_user()
    pay("now", 10, user=inside_now)
    pay("before", 40, user=inside_before)
    pay("outside", 90, user=outside)
    backdate(board, {"before": utcnow() - timedelta(days=10), "outside": utcnow() - timedelta(days=30)})
    assert ranking(board, window=f"season:{season.id}") == [(1, inside_before.id, 40), (2, inside_now.id, 10)]
    pay("later", 50, user=outside)  # a new row inside the season
    assert ranking(board, window=f"season:{season.id}") == [(1, outside.id, 50), (2, inside_before.id, 40),
                                                            (3, inside_now.id, 10)]


def test_a_finished_season_keeps_its_final_standings(board):
    season = make_season("Spring term", today() - timedelta(days=90), today() - timedelta(days=45))
    a, b = make_user(), make_user()
    pay("in-season", 10, user=a)
    pay("after", 99, user=b)
    backdate(board, {"in-season": utcnow() - timedelta(days=60)})
    assert ranking(board, window=f"season:{season.id}") == [(1, a.id, 10)]
    assert board.around("participants", a.id, window=f"season:{season.id}").me.rank == 1


@pytest.mark.parametrize("window", ["season:999", "fortnight", "season:abc", ""])
def test_an_unknown_window_is_refused_naming_the_window(board, window):
    make_user()
    with pytest.raises(UnknownWindow) as refused:
        board.top("participants", window=window)
    assert list(refused.value.fields) == ["window"]


# --- scopes --------------------------------------------------------------------------------

def test_a_team_scope_ranks_the_team_members_by_their_own_points(board):
    captain, member, outsider = make_user(), make_user(), make_user()
    team = make_team(captain, members=(member,))
    other = make_team(outsider)
    pay("c", 10, user=captain)
    pay("m-solo", 25, user=member)
    pay("m-team", 5, user=member, team=team)
    pay("o", 99, user=outsider, team=other)
    scope = Scope("team", team.id)
    assert ranking(board, scope=scope) == [(1, member.id, 30), (2, captain.id, 10)]
    assert board.count("participants", scope=scope) == 2
    assert board.standing_of("participants", captain.id, scope=scope).rank == 2
    assert board.standing_of("participants", outsider.id, scope=scope) is None
    assert ranking(board, scope=scope, window="week") == [(1, member.id, 30), (2, captain.id, 10)]


def test_joining_and_leaving_a_team_moves_a_member_in_and_out_of_its_scope(board):
    captain, joiner = make_user(), make_user()
    team = make_team(captain)
    pay("c", 10, user=captain)
    pay("j", 20, user=joiner)
    scope = Scope("team", team.id)
    assert ranking(board, scope=scope) == [(1, captain.id, 10)]
    accounts.join_team(db.session, actor=joiner, code=team.join_code)
    db.session.commit()
    assert ranking(board, scope=scope) == [(1, joiner.id, 20), (2, captain.id, 10)]
    accounts.leave_team(db.session, actor=joiner, team=team)
    db.session.commit()
    assert ranking(board, scope=scope) == [(1, captain.id, 10)]
    assert ranking(board, scope=scope, window="month") == [(1, captain.id, 10)]


def test_a_team_scope_belongs_to_the_participants_board_and_an_existing_team(board):
    captain = make_user()
    team = make_team(captain)
    pay("c", 10, user=captain)
    with pytest.raises(UnknownScope) as refused:
        board.top("teams", scope=Scope("team", team.id))
    assert list(refused.value.fields) == ["team_id"]
    with pytest.raises(UnknownScope) as refused:
        board.top("participants", scope=Scope("team", team.id + 1000))
    assert list(refused.value.fields) == ["team_id"]


# --- around --------------------------------------------------------------------------------

@pytest.fixture
def ten(board):
    """Ten participants with 100, 90, ... 10 points: rank n has 110 - 10n."""
    users = [make_user() for _ in range(10)]
    for n, user in enumerate(users):
        pay(f"ten-{n}", 100 - 10 * n, user=user)
    return users


def test_around_shows_two_above_and_two_below(board, ten):
    found = board.around("participants", ten[5].id)
    assert found.me.rank == 6 and found.me.points == 50
    assert places(found) == [(4, ten[3].id), (5, ten[4].id), (6, ten[5].id), (7, ten[6].id), (8, ten[7].id)]
    assert [s.points for s in found.above] == [70, 60] and [s.points for s in found.below] == [40, 30]


def test_around_at_the_top_and_the_bottom_shows_what_there_is(board, ten):
    assert places(board.around("participants", ten[0].id)) == [(1, ten[0].id), (2, ten[1].id), (3, ten[2].id)]
    assert places(board.around("participants", ten[1].id, span=3)) == [
        (1, ten[0].id), (2, ten[1].id), (3, ten[2].id), (4, ten[3].id), (5, ten[4].id)]
    assert places(board.around("participants", ten[9].id)) == [(8, ten[7].id), (9, ten[8].id), (10, ten[9].id)]
    assert places(board.around("participants", ten[4].id, span=0)) == [(5, ten[4].id)]


def test_around_someone_without_points_is_none(board, ten):
    assert board.around("participants", make_user().id) is None
    assert board.around("participants", 2**40) is None  # no such row id (users.id is an INTEGER)
    assert board.standing_of("teams", 2**40) is None


# --- hidden participants -------------------------------------------------------------------

def test_hidden_participants_are_left_out_of_public_lists_but_see_their_own_rank(board, ten):
    shy = ten[2]  # 80 points, third
    set_hidden_from_boards(db.session, actor=shy, hidden=True)
    db.session.commit()
    public = ranking(board)
    assert shy.id not in [member for _, member, _ in public]
    assert [rank for rank, _, _ in public] == list(range(1, 10))
    assert public[2] == (3, ten[3].id, 70)  # the next one up takes the public third place
    assert board.count("participants") == 9
    assert board.around("participants", shy.id) is None  # not in public
    own = board.standing_of("participants", shy.id)
    assert (own.rank, own.points, own.hidden) == (3, 80, True)  # counted among the visible ones
    mine = board.around("participants", shy.id, include_hidden=True)
    assert places(mine) == [(1, ten[0].id), (2, ten[1].id), (3, shy.id), (3, ten[3].id), (4, ten[4].id)]
    assert board.around("participants", ten[3].id).rows[1].member_id == ten[1].id  # neighbours skip the hidden

    set_hidden_from_boards(db.session, actor=shy, hidden=False)
    db.session.commit()
    assert ranking(board)[2] == (3, shy.id, 80) and board.count("participants") == 10


def test_hidden_participants_are_left_out_of_every_window_and_team(board):
    shy, friend = make_user(), make_user()
    team = make_team(shy, members=(friend,))
    season = make_season("Now", today() - timedelta(days=3), today() + timedelta(days=3))
    pay("shy", 50, user=shy)
    pay("friend", 10, user=friend)
    set_hidden_from_boards(db.session, actor=shy, hidden=True)
    db.session.commit()
    for window in ("all", "week", "month", f"season:{season.id}"):
        for scope in (None, Scope("team", team.id)):
            assert ranking(board, window=window, scope=scope) == [(1, friend.id, 10)], (window, scope)
            assert board.standing_of("participants", shy.id, window=window, scope=scope).rank == 1


def test_a_participant_hidden_after_a_season_ends_vanishes_from_it(board):
    season = make_season("Spring term", today() - timedelta(days=90), today() - timedelta(days=45))
    shy, other = make_user(), make_user()
    pay("shy", 50, user=shy)
    pay("other", 10, user=other)
    backdate(board, {"shy": utcnow() - timedelta(days=60), "other": utcnow() - timedelta(days=60)})
    assert [m for _, m, _ in ranking(board, window=f"season:{season.id}")] == [shy.id, other.id]
    set_hidden_from_boards(db.session, actor=shy, hidden=True)
    db.session.commit()
    assert ranking(board, window=f"season:{season.id}") == [(1, other.id, 10)]


# --- the Redis projection ------------------------------------------------------------------

def test_redis_reads_touch_no_sql_once_built(redis_board):
    team_mate, a = make_user(), make_user()
    team = make_team(team_mate, members=(a,))
    pay("1", 10, user=a, team=team)
    pay("2", 20, user=team_mate)
    a_id, team_id, leader = a.id, team.id, team_mate.display_name
    with counting(db.engine) as statements:
        for window in ("all", "week", "month"):
            assert redis_board.top("participants", window=window)[0].name == leader
            assert redis_board.around("participants", a_id, window=window).me.rank == 2
            assert redis_board.count("participants", window) == 2
            assert redis_board.top("teams", window=window)[0].member_id == team_id
            assert redis_board.top("participants", window=window, scope=Scope("team", team_id))
    assert statements == []


def test_redis_keys_are_per_board_window_and_scope_and_past_windows_expire(redis_board):
    a = make_user()
    team = make_team(a)
    pay("1", 10, user=a)
    keys = redis_board.client.keys("test:lb:*")
    week = windows.week_containing(utcnow(), ZONE)
    for expected in ("test:lb:participants:all", f"test:lb:participants:{week.key}",
                     f"test:lb:participants:{windows.month_containing(utcnow(), ZONE).key}",
                     f"test:lb:team:{team.id}:all", f"test:lb:team:{team.id}:{week.key}"):
        assert expected in keys and expected + ":ready" in keys
    assert redis_board.client.ttl("test:lb:participants:all") == -1
    week_ttl = redis_board.client.ttl(f"test:lb:participants:{week.key}")
    assert week.ends_at + timedelta(days=35) - utcnow() - timedelta(seconds=5) \
        <= timedelta(seconds=week_ttl) <= timedelta(days=42)
    assert redis_board.client.ttl(f"test:lb:participants:{week.key}:ready") == pytest.approx(week_ttl, abs=5)


def test_a_finished_seasons_keys_are_built_on_first_read_and_expire(redis_board):
    season = make_season("Spring term", today() - timedelta(days=90), today() - timedelta(days=45))
    a = make_user()
    pay("old", 10, user=a)
    backdate(redis_board, {"old": utcnow() - timedelta(days=60)})
    key = f"test:lb:participants:season:{season.id}"
    assert not redis_board.client.exists(key + ":ready")  # rebuild covers live windows only
    assert ranking(redis_board, window=f"season:{season.id}") == [(1, a.id, 10)]
    assert redis_board.client.exists(key + ":ready")
    assert 0 < redis_board.client.ttl(key) <= 24 * 3600  # ended over 35 days ago: kept a day
    expected, window = [(1, a.id, 10)], f"season:{season.id}"
    with counting(db.engine) as statements:
        assert ranking(redis_board, window=window) == expected
    assert statements == []


def test_an_unbuilt_window_is_read_from_sql_until_a_write_builds_it(redis_board):
    a, b = make_user(), make_user()
    pay("1", 10, user=a)
    redis_board.client.flushdb()  # Redis lost everything
    assert ranking(redis_board) == [(1, a.id, 10)]  # still right, from SQL
    assert not redis_board.client.exists("test:lb:participants:all:ready")
    pay("2", 20, user=b)  # the refresh finds the set unbuilt and builds it in full
    assert redis_board.client.exists("test:lb:participants:all:ready")
    expected = [(1, b.id, 20), (2, a.id, 10)]
    with counting(db.engine) as statements:
        assert ranking(redis_board) == expected
    assert statements == []


def test_names_missing_from_redis_are_read_from_sql_and_put_back(redis_board):
    a = make_user(name="Quiet Quail")
    pay("1", 10, user=a)
    redis_board.client.delete("test:lb:names:participants")
    assert redis_board.top("participants")[0].name == "Quiet Quail"
    assert redis_board.client.hget("test:lb:names:participants", str(a.id)) == "Quiet Quail"


def test_redis_rebuild_restores_a_lost_projection(redis_board):
    sql = redis_board.sql
    captain, b = make_user(), make_user()
    team = make_team(captain, members=(b,))
    season = make_season("Now", today() - timedelta(days=3), today() + timedelta(days=3))
    pay("1", 10, user=captain, team=team)
    pay("2", 20, user=b)
    redis_board.client.flushdb()
    assert redis_board.drift()  # verify notices
    assert redis_board.rebuild() > 0
    assert redis_board.drift() == []
    for window in ("all", "week", "month", f"season:{season.id}"):
        for name, scope in (("participants", None), ("teams", None), ("participants", Scope("team", team.id))):
            assert redis_board.client.exists(redis_board.keys(name, window, scope).ready)
            assert redis_board.top(name, window=window, scope=scope) == sql.top(name, window=window, scope=scope)


def test_drift_reports_tampering_in_any_window_or_scope(redis_board):
    a = make_user()
    team = make_team(a)
    pay("1", 10, user=a)
    assert redis_board.drift() == []
    redis_board.client.zadd(redis_board.keys("participants", "week").public, {"999": 5})
    redis_board.client.zadd(redis_board.keys("participants", "month", Scope("team", team.id)).public,
                            {str(a.id): 0})
    redis_board.client.hset(redis_board.names_key("participants"), str(a.id), "Someone Else")
    lines = redis_board.drift()
    assert len(lines) == 3
    assert any("week" in line and "member 999" in line and "ledger absent" in line for line in lines)
    assert any(f"team {team.id} month" in line and "redis 0 points, ledger 10 points" in line for line in lines)
    assert any("name of member" in line for line in lines)
    redis_board.rebuild()
    assert redis_board.drift() == []


def test_the_optional_top_cache_serves_board_pages_from_memory_until_it_expires(redis_board, monkeypatch):
    from scoring import leaderboards

    clock = [1000.0]
    monkeypatch.setattr(leaderboards, "_monotonic", lambda: clock[0])
    redis_board.top_cache_seconds = 1.0
    a, b = make_user(), make_user()
    pay("1", 10, user=a)
    assert ranking(redis_board) == [(1, a.id, 10)]
    calls = []
    monkeypatch.setattr(redis_board, "_call", lambda *args: calls.append(args) or None)
    assert ranking(redis_board) == [(1, a.id, 10)] and calls == []  # from memory: no Redis at all
    monkeypatch.undo()
    monkeypatch.setattr(leaderboards, "_monotonic", lambda: clock[0])
    # Another process's write (here: straight into Redis) shows once the second is up...
    redis_board.client.zadd(redis_board.keys("participants").public, {str(b.id): leaderboards.encode_score(50, 99)})
    assert [m for _, m, _ in ranking(redis_board)] == [a.id]
    clock[0] += 1.01
    assert [m for _, m, _ in ranking(redis_board)] == [b.id, a.id]
    # ...and this process's own writes at once.
    pay("2", 100, user=a)
    assert ranking(redis_board)[0] == (1, a.id, 110)


def test_the_top_cache_holds_only_the_first_hundred_places_and_never_ranks(redis_board, monkeypatch):
    redis_board.top_cache_seconds = 60.0
    a = make_user()
    pay("1", 10, user=a)
    redis_board.top("participants", limit=10, offset=95)
    redis_board.around("participants", a.id)
    calls = []
    original = redis_board._call
    monkeypatch.setattr(redis_board, "_call", lambda *args: calls.append(args) or original(*args))
    redis_board.top("participants", limit=10, offset=95)  # places 96-105: not cached
    assert redis_board.around("participants", a.id).me.points == 10
    assert len(calls) == 2


def test_redis_refresh_with_older_data_cannot_overwrite_newer(redis_board):
    a = make_user()
    pay("1", 10, user=a)
    keys = redis_board.keys("participants")
    late = redis_board._write(keys=[keys.public, keys.hidden, keys.version, keys.ready],
                              args=[a.id, 0, 0, 0, 0])  # a late writer that read before the award
    assert late == 0
    assert redis_board.standing_of("participants", a.id).points == 10


@pytest.mark.board_swapped
def test_redis_outage_falls_back_to_sql(app, ctx):
    sql = SqlLeaderboard(lambda: db.engine)
    dead = make_redis("redis://127.0.0.1:1/0")  # nothing listens there
    backend = RedisLeaderboard(dead, sql)
    previous = _install(app, backend)
    try:
        a = make_user()
        pay("1", 10, user=a)  # the after-commit refresh fails quietly; the award stands
        assert [(s.member_id, s.points) for s in backend.top("participants", window="week")] == [(a.id, 10)]
        assert backend.standing_of("participants", a.id).rank == 1
        assert backend.around("participants", a.id).me.points == 10
        assert backend.count("participants") == 1
    finally:
        app.extensions["fixquest.leaderboard"] = previous


# --- the page ------------------------------------------------------------------------------

def page_of(client, url="/leaderboards", status=200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def test_the_page_opens_on_this_week_and_all_time_without_a_season(client):
    a = make_user(name="Weekly Wren")
    team = make_team(a, name="Canal Crew")
    pay("new", 10, user=a, team=team)
    pay("old", 90, user=a)
    backdate(client.application.extensions["fixquest.leaderboard"], {"old": utcnow() - timedelta(days=8)})
    html = page_of(client)
    week_part, all_part = html.split('id="window-2"')
    assert "This week" in week_part and "<td>1</td><td>Weekly Wren</td><td>10</td>" in week_part
    assert "<td>1</td><td>Canal Crew</td><td>10</td>" in week_part
    assert "All time" in all_part and "<td>1</td><td>Weekly Wren</td><td>100</td>" in all_part
    assert "whoever reached that score first ranks higher" in html
    for link in ("window=week", "window=month", "window=all"):
        assert link in html


def test_the_page_opens_on_the_running_season_when_there_is_one(client):
    season = make_season("Autumn term", today() - timedelta(days=3), today() + timedelta(days=3))
    pay("1", 10, user=make_user(name="Seasonal Swift"))
    html = page_of(client)
    assert "<h2 id=\"window-2\">Autumn term</h2>" in html
    assert f"window=season:{season.id}" in html or f"window=season%3A{season.id}" in html
    assert html.count("<td>1</td><td>Seasonal Swift</td><td>10</td>") == 2


def test_the_page_shows_your_rank_with_two_above_and_two_below(client, login):
    players = [make_user(name=f"Player {chr(65 + n)}") for n in range(10)]
    for n, player in enumerate(players):
        pay(f"p{n}", 100 - 10 * n, user=player)
    login(players[5])
    html = page_of(client, "/leaderboards?window=week")
    assert "You are <strong>#6</strong> with 50 points this week" in html
    around = html.split('class="board around"')[1].split("</table>")[0]
    assert [f"<td>{rank}</td>" in around for rank in range(1, 11)] == [False] * 3 + [True] * 5 + [False] * 2
    assert "Player F (you)" in around


def test_the_page_pages_through_the_whole_board(client):
    for n in range(30):
        pay(f"p{n}", 100 + n, user=make_user())
    first = page_of(client, "/leaderboards?window=week&board=participants")
    assert first.count("<tr><td>") == 25 and "Page 1 of 2" in first and 'rel="next"' in first
    second = page_of(client, "/leaderboards?window=week&board=participants&page=2")
    assert second.count("<tr><td>") == 5 and "<td>26</td>" in second and 'rel="prev"' in second
    page_of(client, "/leaderboards?window=week&page=3", status=404)
    page_of(client, "/leaderboards?window=week&page=0", status=404)


def test_the_page_narrows_to_one_teams_members(client, login):
    captain, member, outsider = make_user(name="Cap"), make_user(name="Mem"), make_user(name="Out")
    team = make_team(captain, name="Canal Crew", members=(member,))
    pay("c", 10, user=captain)
    pay("m", 20, user=member)
    pay("o", 30, user=outsider)
    login(member)
    home = page_of(client)
    assert f"team_id={team.id}" in home and "Within Canal Crew" in home
    html = page_of(client, f"/leaderboards?window=all&team_id={team.id}")
    assert "participants in Canal Crew" in html
    assert "<td>1</td><td>Mem</td><td>20</td>" in html and "<td>2</td><td>Cap</td><td>10</td>" in html
    assert "Out" not in html.split("participants in Canal Crew")[1]
    page_of(client, f"/leaderboards?team_id={team.id + 100}", status=404)
    page_of(client, f"/leaderboards?team_id={team.id}&board=teams", status=404)
    page_of(client, "/leaderboards?team_id=abc", status=404)


@pytest.mark.parametrize("query", ["window=fortnight", "window=season:404", "board=villains", "page=x"])
def test_an_unknown_window_or_board_on_the_page_is_404(client, query):
    page_of(client, f"/leaderboards?{query}", status=404)


def test_the_teams_board_shows_your_teams_standing(client, login):
    captain = make_user()
    team = make_team(captain, name="Canal Crew")
    pay("t", 10, user=captain, team=team)
    login(captain)
    html = page_of(client, "/leaderboards?board=teams&window=month")
    assert "Canal Crew is <strong>#1</strong> with 10 points this month" in html


def test_hiding_from_the_boards_keeps_your_own_rank(app, client, login):
    shy, other = make_user(name="Shy Shrew"), make_user(name="Open Otter")
    pay("s", 50, user=shy)
    pay("o", 10, user=other)
    login(shy)
    assert client.post("/me/leaderboard-visibility", data={"hidden": "1"}, csrf=False).status_code == 400
    response = client.post("/me/leaderboard-visibility", data={"hidden": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/leaderboards"
    mine = page_of(client, "/leaderboards?window=all")
    assert "You are <strong>#1</strong> with 50 points of all time" in mine
    assert "hidden from public leaderboards" in mine and "Show me on public leaderboards" in mine
    assert "<td>1</td><td>Open Otter</td><td>10</td>" in mine  # the public board, without me
    stranger = app.test_client()
    assert "Shy Shrew" not in page_of(stranger)
    assert "Shy Shrew" not in page_of(stranger, "/api/v1/leaderboards/participants")
    client.post("/me/leaderboard-visibility", data={"hidden": "0"})
    assert "<td>1</td><td>Shy Shrew</td><td>50</td>" in page_of(stranger, "/leaderboards?window=all")


def test_the_visibility_toggle_needs_a_login(client):
    response = client.post("/me/leaderboard-visibility", data={"hidden": "1"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_board_pages_send_few_queries_whatever_the_board_size(client, login):
    from tests.querycount import counting

    viewer = make_user()
    team = make_team(viewer)
    login(viewer)
    urls = ["/leaderboards", "/leaderboards?window=week&page=1", f"/leaderboards?team_id={team.id}",
            "/leaderboards?board=teams&window=month"]

    def counts():
        found = {}
        for url in urls:
            with counting(db.engine) as statements:
                page_of(client, url)
            found[url] = len(statements)
        return found

    for n in range(3):
        pay(f"a{n}", n + 1, user=make_user())
    pay("v", 5, user=viewer, team=team)
    small = counts()
    for n in range(30):
        member = make_user()
        pay(f"b{n}", n + 1, user=member, team=team)
    assert counts() == small
    assert max(small.values()) <= 12, small


def test_awards_committed_while_redis_was_unreachable_are_repaired_when_it_answers(redis_board, monkeypatch):
    import threading

    import redis as redis_lib

    a, b = make_user(), make_user()
    pay("a", 10, user=a)
    redis_board.auto_repair = True
    real = redis_board._pipeline

    def unreachable(*args, **kwargs):
        raise redis_lib.exceptions.ConnectionError("Redis is down")

    monkeypatch.setattr(redis_board, "_pipeline", unreachable)
    pay("b", 30, user=b)  # the award stands; Redis missed it
    monkeypatch.setattr(redis_board, "_pipeline", real)
    assert redis_board.drift()  # Redis is stale until it is repaired
    redis_board.top("participants")  # Redis answers again: a repair starts in the background
    for thread in [t for t in threading.enumerate() if t.name == "leaderboard-repair"]:
        thread.join(timeout=30)
    assert redis_board.drift() == []
    assert ranking(redis_board) == [(1, b.id, 30), (2, a.id, 10)]


def test_the_first_use_rebuilds_a_projection_that_is_not_built(redis_board):
    import threading

    a = make_user()
    pay("a", 10, user=a)
    redis_board.client.flushdb()
    redis_board.auto_repair, redis_board._unsure = True, True  # as a fresh process with auto_repair
    redis_board.count("participants")
    for thread in [t for t in threading.enumerate() if t.name == "leaderboard-repair"]:
        thread.join(timeout=30)
    assert redis_board.client.exists(redis_board.keys("participants").ready)
    assert redis_board.drift() == []
