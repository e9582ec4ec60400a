"""Leaderboards: one interface, two backends.

* SqlLeaderboard derives standings from the ledger on every read. Always available.
* RedisLeaderboard keeps a sorted set per board, written after each ledger commit and
  rebuildable from the ledger at any time. If Redis fails, it answers from SQL.

Ranking rule (both backends): more points first; on equal points, whoever reached the
score first, i.e. whose latest ledger entry is older (lower id), ranks higher.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import redis
from sqlalchemy import Engine, and_, func, or_, select

from scoring.models import LedgerEntry

log = logging.getLogger(__name__)

BOARDS = ("participants", "teams")
_MEMBER_COLUMN = {"participants": LedgerEntry.user_id, "teams": LedgerEntry.team_id}


@dataclass(frozen=True)
class Standing:
    rank: int
    member_id: int
    points: int


class UnknownBoard(ValueError):
    def __init__(self, board: str):
        super().__init__(f"No leaderboard called {board!r}; choose one of {', '.join(BOARDS)}.")
        self.board = board


def _member_column(board: str):
    try:
        return _MEMBER_COLUMN[board]
    except KeyError:
        raise UnknownBoard(board) from None


class Leaderboard(Protocol):
    name: str

    def top(self, board: str, *, limit: int = 10, offset: int = 0) -> list[Standing]: ...

    def standing_of(self, board: str, member_id: int) -> Standing | None: ...

    def refresh(self, members: Iterable[tuple[str, int]]) -> None:
        """Bring these (board, member_id) pairs up to date after a ledger commit."""

    def rebuild(self) -> int:
        """Recompute the whole projection from the ledger; returns members written."""


# --- SQL ----------------------------------------------------------------------------------

def totals_select(board: str):
    """(member_id, points, last_entry_id, entries) per member of a board."""
    member = _member_column(board)
    return (
        select(member.label("member_id"),
               func.sum(LedgerEntry.amount).label("points"),
               func.max(LedgerEntry.id).label("last_id"),
               func.count(LedgerEntry.id).label("entries"))
        .where(member.is_not(None))
        .group_by(member)
    )


class SqlLeaderboard:
    name = "sql"

    def __init__(self, engine_factory):
        self._engine_factory = engine_factory  # callable returning the app's Engine

    @property
    def engine(self) -> Engine:
        return self._engine_factory()

    def top(self, board: str, *, limit: int = 10, offset: int = 0) -> list[Standing]:
        totals = totals_select(board).subquery()
        stmt = (select(totals.c.member_id, totals.c.points)
                .order_by(totals.c.points.desc(), totals.c.last_id.asc())
                .limit(limit).offset(offset))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [Standing(offset + i + 1, row.member_id, int(row.points)) for i, row in enumerate(rows)]

    def standing_of(self, board: str, member_id: int) -> Standing | None:
        totals = totals_select(board).subquery()
        with self.engine.connect() as conn:
            mine = conn.execute(select(totals.c.points, totals.c.last_id)
                                .where(totals.c.member_id == member_id)).first()
            if mine is None:
                return None
            ahead = conn.execute(select(func.count()).select_from(totals).where(or_(
                totals.c.points > mine.points,
                and_(totals.c.points == mine.points, totals.c.last_id < mine.last_id),
            ))).scalar_one()
        return Standing(ahead + 1, member_id, int(mine.points))

    def member_totals(self, board: str, member_ids: Iterable[int] | None = None):
        stmt = totals_select(board)
        if member_ids is not None:
            stmt = stmt.where(_member_column(board).in_(list(member_ids)))
        with self.engine.connect() as conn:
            return conn.execute(stmt).all()

    def refresh(self, members: Iterable[tuple[str, int]]) -> None:
        """Nothing to do: every read derives from the ledger."""

    def rebuild(self) -> int:
        return 0


# --- Redis --------------------------------------------------------------------------------

# Score = points * 2**31 + (2**31 - 1 - last_entry_id): one number that sorts by points, then
# by who got there first. Exact in a double while |points| < 2**22 (4,194,304).
_SHIFT = 2**31
MAX_EXACT_POINTS = 2**22

# Compare-and-set by version (the member's number of ledger entries, which only grows):
# a refresh that read older data can never overwrite a newer one.
_CAS_SCRIPT = """
local current = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '-1')
if tonumber(ARGV[3]) >= current then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  return 1
end
return 0
"""


def encode_score(points: int, last_id: int) -> int:
    return points * _SHIFT + (_SHIFT - 1 - last_id)


def decode_points(score: float) -> int:
    return int(score) // _SHIFT


class RedisLeaderboard:
    name = "redis"

    def __init__(self, client: redis.Redis, sql: SqlLeaderboard, *, prefix: str = "fixquest:"):
        self.client = client
        self.sql = sql
        self.prefix = prefix
        self._cas = client.register_script(_CAS_SCRIPT)

    def _keys(self, board: str) -> tuple[str, str]:
        _member_column(board)
        base = f"{self.prefix}lb:{board}:all"
        return base, base + ":version"

    def top(self, board: str, *, limit: int = 10, offset: int = 0) -> list[Standing]:
        zkey, _ = self._keys(board)
        try:
            rows = self.client.zrevrange(zkey, offset, offset + limit - 1, withscores=True)
        except redis.RedisError:
            log.warning("redis unavailable; leaderboard read from SQL", exc_info=True)
            return self.sql.top(board, limit=limit, offset=offset)
        return [Standing(offset + i + 1, int(member), decode_points(score))
                for i, (member, score) in enumerate(rows)]

    def standing_of(self, board: str, member_id: int) -> Standing | None:
        zkey, _ = self._keys(board)
        try:
            with self.client.pipeline(transaction=False) as pipe:
                pipe.zrevrank(zkey, member_id)
                pipe.zscore(zkey, member_id)
                rank, score = pipe.execute()
        except redis.RedisError:
            log.warning("redis unavailable; rank read from SQL", exc_info=True)
            return self.sql.standing_of(board, member_id)
        if rank is None:
            return None
        return Standing(rank + 1, member_id, decode_points(score))

    def refresh(self, members: Iterable[tuple[str, int]]) -> None:
        by_board: dict[str, list[int]] = {}
        for board, member_id in members:
            by_board.setdefault(board, []).append(member_id)
        for board, ids in by_board.items():
            zkey, vkey = self._keys(board)
            for row in self.sql.member_totals(board, ids):
                self._cas(keys=[zkey, vkey],
                          args=[row.member_id, encode_score(int(row.points), row.last_id), row.entries])

    def rebuild(self) -> int:
        """Recompute every board from the ledger and swap it in atomically."""
        written = 0
        for board in BOARDS:
            zkey, vkey = self._keys(board)
            rows = self.sql.member_totals(board)
            with self.client.pipeline(transaction=True) as pipe:
                pipe.delete(zkey + ":new", vkey + ":new")
                for start in range(0, len(rows), 5000):
                    chunk = rows[start:start + 5000]
                    pipe.zadd(zkey + ":new", {str(r.member_id): encode_score(int(r.points), r.last_id)
                                              for r in chunk})
                    pipe.hset(vkey + ":new", mapping={str(r.member_id): r.entries for r in chunk})
                if rows:
                    pipe.rename(zkey + ":new", zkey)
                    pipe.rename(vkey + ":new", vkey)
                else:
                    pipe.delete(zkey, vkey)
                pipe.execute()
            written += len(rows)
        return written

    def drift(self) -> list[str]:
        """Differences between Redis and the ledger, as readable lines (empty: none)."""
        problems = []
        for board in BOARDS:
            zkey, _ = self._keys(board)
            stored = {int(m): int(s) for m, s in self.client.zrange(zkey, 0, -1, withscores=True)}
            expected = {r.member_id: encode_score(int(r.points), r.last_id)
                        for r in self.sql.member_totals(board)}
            for member_id in sorted(set(stored) | set(expected)):
                if stored.get(member_id) != expected.get(member_id):
                    problems.append(f"{board} member {member_id}: redis "
                                    f"{_describe(stored.get(member_id))}, ledger {_describe(expected.get(member_id))}")
        return problems


def _describe(score: int | None) -> str:
    return "absent" if score is None else f"{decode_points(score)} points"
