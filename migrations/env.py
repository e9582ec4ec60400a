"""Alembic environment for FixQuest (through Flask-Migrate).

It uses the app's engine and metadata. Logging is left to the app (no fileConfig), so
running migrations at start-up does not reset the app's log settings. SQLite gets batch
mode so later ALTERs work there too.
"""
import logging

from alembic import context
from flask import current_app

logger = logging.getLogger("alembic.env")
config = context.config
target_db = current_app.extensions["migrate"].db


def render_item(type_, obj, autogen_context):
    """Render our UTCDateTime as a plain timezone-aware DateTime: migrations must not
    import app code, which changes while old migrations stay as they were."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def _engine():
    return target_db.engine


def run_migrations_offline() -> None:
    url = _engine().url.render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=target_db.metadata, literal_binds=True,
                      render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    engine = _engine()
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_db.metadata,
                          process_revision_directives=skip_empty, compare_type=True,
                          render_item=render_item,
                          render_as_batch=engine.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
