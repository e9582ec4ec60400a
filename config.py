"""Settings read from the environment (and a .env file, through python-dotenv).

Every setting has a default that lets `flask --app app run` work on a fresh machine:
a SQLite file in the instance folder and no Redis. Production mode
(FIXQUEST_ENV=production) refuses to start with the development secret.
"""
from __future__ import annotations

import os

from dotenv import load_dotenv

load_dotenv()

DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - rejected in production by check_production

DEFAULT_CATEGORIES = (
    "pothole",
    "litter",
    "fly-tipping",
    "graffiti",
    "street lighting",
    "broken furniture",
    "overgrown vegetation",
    "other",
)


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start."""


def _categories_from_env() -> tuple[str, ...]:
    raw = os.environ.get("FIXQUEST_CATEGORIES", "")
    names = tuple(name.strip().lower() for name in raw.split(",") if name.strip())
    return names or DEFAULT_CATEGORIES


def _normalise_db_url(url: str) -> str:
    """Accept the common postgres:// spelling and route PostgreSQL through psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def from_environment(instance_path: str) -> dict:
    """Build the configuration mapping from the process environment."""
    default_db = "sqlite:///" + os.path.join(instance_path, "fixquest.db")
    return {
        "FIXQUEST_ENV": os.environ.get("FIXQUEST_ENV", "development"),
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEV_SECRET_KEY),
        "SQLALCHEMY_DATABASE_URI": _normalise_db_url(os.environ.get("DATABASE_URL", default_db)),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "CATEGORIES": _categories_from_env(),
        "TIMEZONE": os.environ.get("FIXQUEST_TIMEZONE", "Europe/London"),
        "AUTO_MIGRATE": os.environ.get("FIXQUEST_AUTO_MIGRATE", "1") != "0",
        "PASSWORD_HASH_METHOD": "scrypt",
        "MIN_PASSWORD_LENGTH": 10,
        "PAGE_SIZE": 20,
        "MAX_CONTENT_LENGTH": 1 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
    }


def check_production(config: dict) -> None:
    """Refuse to run in production with settings that are only safe on a laptop."""
    if config.get("FIXQUEST_ENV") != "production":
        return
    secret = config.get("SECRET_KEY") or ""
    if secret == DEV_SECRET_KEY or len(secret) < 32:
        raise ConfigError(
            "FIXQUEST_ENV=production needs SECRET_KEY set to a random value of at least 32 "
            "characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    config["SESSION_COOKIE_SECURE"] = True
    config["REMEMBER_COOKIE_SECURE"] = True
