"""Unbound extensions, attached to the app in create_app."""
from __future__ import annotations

import redis
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def make_redis(url: str) -> redis.Redis:
    """A Redis client that fails fast: one immediate retry and short timeouts, so a Redis
    outage costs a request milliseconds before it falls back to SQL, not seconds."""
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=1, socket_connect_timeout=1,
                                retry=Retry(NoBackoff(), 1), health_check_interval=30)
