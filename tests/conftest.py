"""Test fixtures.

The database under test comes from DATABASE_URL (default: a fresh SQLite file) and Redis
from REDIS_URL (default: none, so the app runs on its SQL leaderboard). With CI=true a
configured service that does not answer fails the run instead of skipping.
"""
from __future__ import annotations

import contextvars
import os

import pytest
import redis
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text

from app import create_app
from extensions import db
from tests.boards import installed
from tests.factories import TEST_HASH

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


# --- one run per shared database ------------------------------------------------------------
# Tests empty the PostgreSQL databases and Redis dbs they use. Two runs on the same ones at
# once (a local run beside CI's) fail each other in baffling ways: rows vanish mid-test,
# leaderboards "drift". So each run takes a PostgreSQL advisory lock (in the server's
# `postgres` database) per database and Redis db it will empty, held until it ends; a second
# run that finds one taken stops at once and says which.

_claims = None  # the connection holding this run's locks


def _shared_services() -> list[str]:
    from sqlalchemy.engine import make_url

    named = [PG_URL, TEST_REDIS_URL] + [os.environ[name] for name in ("DATABASE_URL", "REDIS_URL")
                                        if os.environ.get(name)]
    found = []
    for raw in named:
        if raw.startswith(("postgres", "redis")):
            url = make_url(raw.replace("postgresql+psycopg://", "postgresql://"))
            host = "127.0.0.1" if url.host in (None, "", "localhost") else url.host
            port = url.port or (6379 if url.drivername.startswith("redis") else 5432)
            scheme = "redis" if url.drivername.startswith("redis") else "postgresql"
            found.append(f"{scheme}://{host}:{port}/{url.database or '0'}")
    return sorted(set(found))


def pytest_configure(config) -> None:
    global _claims
    import psycopg

    from sqlalchemy.engine import make_url

    server = make_url(PG_URL.replace("postgresql+psycopg://", "postgresql://")).set(database="postgres")
    try:
        _claims = psycopg.connect(server.render_as_string(hide_password=False), connect_timeout=2, autocommit=True)
    except psycopg.OperationalError:
        return  # no PostgreSQL here: the tests that need it skip (or fail in CI) on their own
    for service in _shared_services():
        if not _claims.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (f"fixquest-tests {service}",)).fetchone()[0]:
            _claims.close()
            pytest.exit(f"Another test run is using {service}, and tests empty it: wait for that run, or give "
                        "this one its own (TEST_POSTGRES_URL, TEST_REDIS_URL, DATABASE_URL, REDIS_URL).", returncode=4)


def pytest_unconfigure(config) -> None:
    if _claims is not None and not _claims.closed:
        _claims.close()


def require_service(name: str, reason: str) -> None:
    """Skip a test that needs a missing service on a laptop; fail it in CI."""
    if IN_CI:
        pytest.fail(f"{name} is required in CI: {reason}")
    pytest.skip(f"{name} not available: {reason}")


class CsrfClient(FlaskClient):
    """A test client that fills in a valid CSRF token for form posts, as a browser would
    after loading the form. Pass csrf=False to post without one."""

    def open(self, *args, **kwargs):
        # Each request runs in a clean context, so it gets its own app context and its own
        # database session (as in production), not the test's: a missing commit in a
        # view then shows up as missing data instead of hiding in a shared session.
        return contextvars.Context().run(super().open, *args, **kwargs)

    def post(self, *args, csrf: bool = True, **kwargs):
        data = kwargs.get("data")
        if csrf and isinstance(data, dict) and "csrf_token" not in data and "json" not in kwargs:
            kwargs["data"] = {**data, "csrf_token": self.csrf_token()}
        return super().post(*args, **kwargs)

    def csrf_token(self) -> str:
        raw = "test-raw-csrf-token"
        with self.session_transaction() as sess:
            sess.setdefault("csrf_token", raw)
            raw = sess["csrf_token"]
        serializer = URLSafeTimedSerializer(self.application.config["SECRET_KEY"], salt="wtf-csrf-token")
        return serializer.dumps(raw)


def app_config(database_url: str, redis_url: str | None) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "PASSWORD_HASH_METHOD": TEST_HASH,
        "CATEGORIES": ("pothole", "litter", "graffiti", "other"),
        "PHOTO_STORAGE": "memory",
        # Badges pay no points in tests by default, so tests about quest and review points
        # can state exact totals; tests/test_badges.py sets the points it checks.
        "BADGE_POINTS": 0,
        # Rate limits are off for the shared app; tests/test_rate_limits.py builds apps with them on.
        "RATELIMIT_ENABLED": False,
    }


def _check_redis(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.exit(f"REDIS_URL={url} is set but Redis does not answer: {exc}", returncode=3)
        raise


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "fixquest-test.db")


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    url = os.environ.get("REDIS_URL") or None
    if url:
        _check_redis(url)
    return url


@pytest.fixture(scope="session")
def app(database_url, redis_url):
    app = create_app(app_config(database_url, redis_url))
    app.test_client_class = CsrfClient
    if app.extensions["fixquest.redis"] is not None:
        app.extensions["fixquest.redis"].flushdb()  # nothing left by an earlier run is checked against this one
    return app


def wipe(app) -> None:
    """Empty every table (and the Redis test database) between tests."""
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    conn.execute(text(f"DELETE FROM {name}"))
        client = app.extensions["fixquest.redis"]
        if client is not None:
            client.flushdb()
            # The live hub remembers which stream topics it registered in Redis; a flush
            # forgets them there, as a Redis restart would (its listener then does the same).
            app.extensions["fixquest.live"].forget_presence()
        cache = app.extensions.get("pagecache")
        if cache is not None:
            cache.clear()  # the rows were deleted behind the ORM's back, as another process might
        jobs = app.extensions["fixquest.jobs"]
        if hasattr(jobs, "clear"):
            jobs.clear()  # background jobs left by this test must not run against the next one


def _check_projection(app) -> None:
    """On the Redis run, every test's scenario must leave the Redis leaderboards exactly as
    the ledger says (what `flask scoring verify` checks). Background work still queued by
    the test is not the projection's concern: the check runs before the wipe."""
    backend = app.extensions["fixquest.leaderboard"]
    if backend.name != "redis":
        return
    with app.app_context():
        drift = backend.drift()
    assert drift == [], "the Redis leaderboards drifted from the ledger:\n" + "\n".join(drift[:20])


@pytest.fixture(autouse=True)
def _clean(request):
    yield
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        # A test that put another leaderboard in the app's place (the board fixtures, or by
        # hand: marked board_swapped) wrote its awards elsewhere: the app's Redis missed them.
        swapped = ({"board", "redis_board"} & set(request.fixturenames) or request.node.get_closest_marker(
            "board_swapped") or request.node.get_closest_marker("no_drift_check"))
        try:
            if not swapped and os.environ.get("FIXQUEST_SKIP_DRIFT_CHECK") != "1":
                _check_projection(app)
        finally:
            wipe(app)


@pytest.fixture
def ctx(app):
    """An application context: services and factories use db.session inside it."""
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app, ctx):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def login(client):
    def _login(user):
        with client.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
        return client
    return _login


@pytest.fixture(scope="session")
def pg_app(app, database_url):
    """An app on PostgreSQL, for race tests that need real concurrent transactions.
    On the PostgreSQL run this is the main app; on the SQLite run a second app."""
    if database_url.startswith("postgresql"):
        return app
    import psycopg

    try:
        psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=2).close()
    except psycopg.OperationalError as exc:
        require_service("PostgreSQL", str(exc))
    return create_app(app_config(PG_URL, None))


@pytest.fixture
def pg(pg_app):
    """An app context on PostgreSQL; its tables are wiped afterwards."""
    with pg_app.app_context():
        yield pg_app
        db.session.remove()
    wipe(pg_app)


@pytest.fixture(params=["sql", "redis"])
def board(request, app, ctx):
    """Each leaderboard backend in turn (tests/boards.py), for contract tests."""
    with installed(app, request.param) as backend:
        yield backend


@pytest.fixture
def redis_board(app, ctx):
    """The app on a Redis leaderboard (the test Redis, or fakeredis on the SQLite run)."""
    with installed(app, "redis") as backend:
        yield backend
