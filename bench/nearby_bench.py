"""Time the nearby lookup (challenges.nearby.find_nearby) on a million problems.

    python bench/nearby_bench.py                  # SQLite temp file and PostgreSQL, 2,000 queries each
    python bench/nearby_bench.py --regenerate     # rebuild both databases first
    python bench/nearby_bench.py --databases sqlite --queries 500

The data: `--rows` problems (default 1,000,000) from a fixed seed. 70 % are in a city about
20 km across around Bristol (51.45, -2.59), denser towards the centre, and a tenth of those
are repeat reports within 30 m of an earlier one (duplicates cluster, which is the point of
the lookup); the other 30 % are spread over Great Britain. Categories are drawn from the
eight defaults; about 20 % are resolved (fixed or closed, 2 % of them merged duplicates).

The databases: a SQLite file (`--sqlite-path`, in the temp folder by default) and the
PostgreSQL database `--postgres-url` (its name must contain "bench", its host must be a
loopback address; it is created if missing). Each is migrated by the app, loaded by bulk
insert (executemany on SQLite, COPY on PostgreSQL, the problems' indexes dropped during
the load and rebuilt after) and kept: the next run reuses it unless it holds a different
number of problems or `--regenerate` is given. PostgreSQL is analysed after the load (as
autovacuum soon would); SQLite is not, because the app never runs ANALYZE there.

The measurement: in-process, inside one app context and transaction, `--queries` lookups
per kind (radius 50 m, with and without a category; and `--wide-queries` at the widest
radius the API accepts, 5 km) at points within 30 m of random existing problems, each
timed with time.perf_counter, after `--warmup` untimed ones. The session is emptied
between lookups (untimed), so no lookup finds the previous one's objects. Prints p50, p95
and p99 in milliseconds. Results go in BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import io
import math
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR))

from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from accounts import services as accounts  # noqa: E402
from app import create_app  # noqa: E402
from challenges import geo  # noqa: E402
from challenges.models import Problem  # noqa: E402
from challenges.nearby import find_nearby  # noqa: E402
from config import DEFAULT_CATEGORIES  # noqa: E402
from extensions import db  # noqa: E402

DEFAULT_SQLITE = os.path.join(tempfile.gettempdir(), "fixquest_nearby_bench.sqlite")
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/fixquest_nearby_bench"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

CITY = (51.45, -2.59)          # Bristol
CITY_RADIUS_M = 10_000         # "about 20 km across"
CITY_SIGMA_M = 4_000           # denser towards the centre
COUNTRY = ((50.0, 58.6), (-5.7, 1.7))  # Great Britain, roughly (lat range, lon range)
CITY_SHARE, REPEAT_SHARE = 0.70, 0.10
REPEAT_WITHIN_M = 30
QUERY_WITHIN_M = 30
RADIUS_M = 50
WIDE_RADIUS_M = geo.MAX_RADIUS_M  # the widest circle the API accepts
STATUSES = (("open", 0.55), ("confirmed", 0.15), ("in_progress", 0.10), ("fixed", 0.15), ("closed", 0.05))
MERGED_SHARE = 0.02  # of all problems: closed duplicates pointing at an earlier problem
COLUMNS = ("id", "title", "description", "category", "status", "lat", "lon", "address", "cell",
           "reporter_id", "merged_into_id", "confirmations_count", "subscribers_count",
           "created_at", "updated_at")
DESCRIPTION = ("Generated for the nearby benchmark: about as long as a typical report, a sentence "
               "or two saying what is wrong and where.")
EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
SPAN_S = 3 * 365 * 24 * 3600


# --- data ----------------------------------------------------------------------------------

def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    """A point `north_m` metres north and `east_m` metres east of (lat, lon) (flat-earth
    approximation, fine at these distances)."""
    dlat = math.degrees(north_m / geo.EARTH_RADIUS_M)
    dlon = math.degrees(east_m / (geo.EARTH_RADIUS_M * math.cos(math.radians(lat))))
    return lat + dlat, lon + dlon


def within(rng: random.Random, lat: float, lon: float, radius_m: float) -> tuple[float, float]:
    """A uniformly random point within `radius_m` of (lat, lon)."""
    r, angle = radius_m * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    return offset(lat, lon, r * math.cos(angle), r * math.sin(angle))


def city_point(rng: random.Random) -> tuple[float, float]:
    while True:
        north, east = rng.gauss(0, CITY_SIGMA_M), rng.gauss(0, CITY_SIGMA_M)
        if north * north + east * east <= CITY_RADIUS_M ** 2:
            return offset(*CITY, north, east)


def generate(rows: int, seed: int, reporter_id: int):
    """Yield problem rows as tuples in COLUMNS order (timestamps as aware datetimes)."""
    rng = random.Random(seed)
    city: list[tuple[float, float]] = []
    states = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    for ident in range(1, rows + 1):
        if rng.random() < CITY_SHARE:
            if city and rng.random() < REPEAT_SHARE:
                lat, lon = within(rng, *rng.choice(city), REPEAT_WITHIN_M)
            else:
                lat, lon = city_point(rng)
            city.append((lat, lon))
        else:
            lat, lon = rng.uniform(*COUNTRY[0]), rng.uniform(*COUNTRY[1])
        merged_into = None
        if ident > 1 and rng.random() < MERGED_SHARE:
            status, merged_into = "closed", rng.randint(1, ident - 1)
        else:
            status = rng.choices(states, weights)[0]
        created = EPOCH + timedelta(seconds=rng.randrange(SPAN_S))
        updated = created + timedelta(seconds=rng.randrange(30 * 24 * 3600))
        category = rng.choice(DEFAULT_CATEGORIES)
        yield (ident, f"{category.capitalize()} report {ident}", DESCRIPTION, category, status,
               lat, lon, None, geo.cell_of(lat, lon), reporter_id, merged_into, 0, 1,
               created, updated)


# --- databases -----------------------------------------------------------------------------

def check_postgres_url(url: str) -> None:
    parsed = make_url(url)
    if "bench" not in (parsed.database or ""):
        sys.exit(f"refusing {parsed.database!r}: the benchmark database's name must contain 'bench'")
    if (parsed.host or "127.0.0.1") not in LOOPBACK:
        sys.exit(f"refusing host {parsed.host!r}: loopback addresses only")


def ensure_postgres_database(url: str) -> None:
    import psycopg

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{parsed.database}"')
            print(f"created database {parsed.database}")


def make_app(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "TESTING": True,
                       "SECRET_KEY": "nearby-benchmark-only-" + "x" * 32})


def problem_count() -> int:
    return db.session.execute(text("SELECT count(*) FROM problems")).scalar_one()


def problem_indexes(conn) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the problems table's indexes, as the migrations made them."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'problems' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"))
    else:
        rows = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'problems' "
            "AND sql IS NOT NULL"))
    return [(name, ddl) for name, ddl in rows]


def empty_database(conn) -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            conn.execute(text(f"DELETE FROM {name}"))


def sqlite_timestamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")  # how SQLAlchemy stores a DateTime on SQLite


def load_sqlite(path: str, rows: int, seed: int, reporter_id: int) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        placeholders = ", ".join("?" for _ in COLUMNS)
        batch: list[tuple] = []
        insert = f"INSERT INTO problems ({', '.join(COLUMNS)}) VALUES ({placeholders})"
        for row in generate(rows, seed, reporter_id):
            batch.append(row[:-2] + (sqlite_timestamp(row[-2]), sqlite_timestamp(row[-1])))
            if len(batch) == 50_000:
                conn.executemany(insert, batch)
                batch.clear()
        conn.executemany(insert, batch)
        conn.commit()
    finally:
        conn.close()


def load_postgres(conn, rows: int, seed: int, reporter_id: int) -> None:
    raw = conn.connection.driver_connection  # the psycopg connection under SQLAlchemy's
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY problems ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for n, row in enumerate(generate(rows, seed, reporter_id), 1):
                buffer.write("\t".join(r"\N" if v is None else v.isoformat() if isinstance(v, datetime)
                                       else str(v) for v in row))
                buffer.write("\n")
                if n % 50_000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        cursor.execute("SELECT setval(pg_get_serial_sequence('problems', 'id'), %s)", (rows,))


def build(app, url: str, rows: int, seed: int) -> None:
    """Empty the database and load `rows` problems, with the indexes rebuilt afterwards."""
    started = time.perf_counter()
    with app.app_context():
        with db.engine.begin() as conn:
            empty_database(conn)
        reporter = accounts.create_user(db.session, email="bench@example.org", password="benchmark only",
                                        display_name="Bench reporter", hash_method="pbkdf2:sha256:1000")
        db.session.commit()
        reporter_id = reporter.id
        with db.engine.begin() as conn:
            indexes = problem_indexes(conn)
            for name, _ in indexes:
                conn.execute(text(f"DROP INDEX {name}"))
            if conn.dialect.name == "postgresql":
                load_postgres(conn, rows, seed, reporter_id)
        if db.engine.dialect.name == "sqlite":
            db.session.remove()
            db.engine.dispose()
            load_sqlite(make_url(url).database, rows, seed, reporter_id)
        with db.engine.begin() as conn:
            for _, ddl in indexes:
                conn.execute(text(ddl))
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE problems"))
    print(f"  loaded {rows:,} problems in {time.perf_counter() - started:.0f} s")


# --- measuring -----------------------------------------------------------------------------

def percentile(sorted_ms: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    return sorted_ms[max(0, math.ceil(p / 100 * len(sorted_ms)) - 1)]


def query_points(rows: int, count: int, seed: int) -> list[tuple[float, float, str]]:
    """`count` (lat, lon, category) within QUERY_WITHIN_M of random existing problems."""
    rng = random.Random(seed)
    ids = [rng.randint(1, rows) for _ in range(count)]
    rows_by_id = db.session.execute(
        select(Problem.id, Problem.lat, Problem.lon).where(Problem.id.in_(set(ids)))).all()
    found = {ident: (lat, lon) for ident, lat, lon in rows_by_id}
    points = []
    for ident in ids:
        lat, lon = within(rng, *found[ident], QUERY_WITHIN_M)
        points.append((lat, lon, rng.choice(DEFAULT_CATEGORIES)))
    return points


def measure(points, *, radius_m: float, with_category: bool, warmup: int) -> tuple[list[float], float]:
    """Milliseconds per lookup, sorted, and the mean number of problems found."""
    timings, found = [], 0
    for n, (lat, lon, category) in enumerate(points):
        db.session.expunge_all()
        started = time.perf_counter()
        result = find_nearby(db.session, lat=lat, lon=lon, radius_m=radius_m,
                             category=category if with_category else None)
        elapsed = time.perf_counter() - started
        if n >= warmup:
            timings.append(elapsed * 1000)
            found += len(result)
    db.session.rollback()
    return sorted(timings), found / len(timings)


def run(name: str, url: str, args) -> None:
    print(f"{name}: {make_url(url).render_as_string(hide_password=True)}")
    app = make_app(url)
    with app.app_context():
        count = problem_count()
    if args.regenerate or count != args.rows:
        if count and not args.regenerate:
            print(f"  holds {count:,} problems, not {args.rows:,}: regenerating")
        if make_url(url).get_backend_name() == "sqlite":  # a fresh file: no leftover statistics
            with app.app_context():
                db.engine.dispose()
            os.remove(make_url(url).database)
            app = make_app(url)
        build(app, url, args.rows, args.seed)
    else:
        print(f"  reusing {count:,} problems (--regenerate to rebuild)")
    with app.app_context():
        points = query_points(args.rows, args.queries + args.warmup, args.seed + 1)
        kinds = [(f"{RADIUS_M} m, any category", RADIUS_M, False, points),
                 (f"{RADIUS_M} m, one category", RADIUS_M, True, points)]
        if args.wide_queries:
            wide = points[:args.warmup + args.wide_queries]
            kinds += [(f"{WIDE_RADIUS_M / 1000:g} km, any category", WIDE_RADIUS_M, False, wide),
                      (f"{WIDE_RADIUS_M / 1000:g} km, one category", WIDE_RADIUS_M, True, wide)]
        for kind, radius_m, with_category, sample in kinds:
            timings, mean_found = measure(sample, radius_m=radius_m, with_category=with_category,
                                          warmup=args.warmup)
            print(f"  {kind:>22}: p50 {percentile(timings, 50):.2f} ms  p95 {percentile(timings, 95):.2f} ms  "
                  f"p99 {percentile(timings, 99):.2f} ms  max {timings[-1]:.2f} ms  "
                  f"(n={len(timings)}, {mean_found:.1f} found on average)")
        db.session.remove()
        db.engine.dispose()


def versions(postgres_url: str | None) -> str:
    parts = [f"nproc {os.cpu_count()}", f"Python {platform.python_version()}",
             f"SQLite {sqlite3.sqlite_version}"]
    if postgres_url:
        import psycopg

        dsn = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn) as conn:
            parts.append(f"PostgreSQL {conn.execute('SHOW server_version').fetchone()[0]}")
    return ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql (default both)")
    parser.add_argument("--sqlite-path", default=DEFAULT_SQLITE)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--rows", type=int, default=1_000_000, choices=range(1000, 2_000_001),
                        metavar="1000..2000000")
    parser.add_argument("--queries", type=int, default=2000, choices=range(100, 10_001), metavar="100..10000")
    parser.add_argument("--warmup", type=int, default=200, choices=range(0, 2001), metavar="0..2000")
    parser.add_argument("--wide-queries", type=int, default=200, choices=range(0, 2001), metavar="0..2000",
                        help=f"lookups per kind at the widest radius ({geo.MAX_RADIUS_M} m); 0 skips them")
    parser.add_argument("--seed", type=int, default=20261127,
                        help="of the data and the query points (with --regenerate for new data)")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the databases first")
    args = parser.parse_args()
    wanted = {name.strip() for name in args.databases.split(",") if name.strip()}
    if not wanted or wanted - {"sqlite", "postgresql"}:
        parser.error("--databases takes sqlite, postgresql or both")
    postgres = args.postgres_url if "postgresql" in wanted else None
    if postgres:
        check_postgres_url(postgres)
        ensure_postgres_database(postgres)
    print(f"{versions(postgres)}; {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    if "sqlite" in wanted:
        run("SQLite", "sqlite:///" + os.path.abspath(args.sqlite_path), args)
    if postgres:
        run("PostgreSQL", postgres, args)


if __name__ == "__main__":
    main()
