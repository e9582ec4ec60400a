"""Start-up: defaults that work on a fresh machine, refusals in production, migrations."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app import create_app
from config import DEV_SECRET_KEY, ConfigError
from extensions import db


def test_production_refuses_the_default_or_a_short_secret(tmp_path):
    for secret in (DEV_SECRET_KEY, "short"):
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            create_app({"FIXQUEST_ENV": "production", "SECRET_KEY": secret, "AUTO_MIGRATE": False,
                        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"})


def test_production_with_a_real_secret_uses_secure_cookies(tmp_path):
    app = create_app({"FIXQUEST_ENV": "production", "SECRET_KEY": "x" * 48, "AUTO_MIGRATE": False,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]


def test_environment_configures_database_and_redis(monkeypatch, tmp_path):
    from config import from_environment
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    config = from_environment(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert config["REDIS_URL"] == "redis://127.0.0.1:6379/3"
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.delenv("REDIS_URL")
    config = from_environment(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/fixquest.db"
    assert config["REDIS_URL"] is None


def test_a_fresh_database_is_created_and_migrated_at_start(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/fresh.db", "REDIS_URL": None})
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert {"users", "teams", "problems", "quests", "claims", "reviews", "ledger_entries", "alembic_version"} <= tables
    assert app.extensions["fixquest.leaderboard"].name == "sql"
    assert app.test_client().get("/").status_code == 200


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_redis_url_selects_the_redis_leaderboard(app, redis_url):
    expected = "redis" if redis_url else "sql"
    assert app.extensions["fixquest.leaderboard"].name == expected
