"""FixQuest application factory: `flask --app app run`."""
from __future__ import annotations

import logging
import os

from flask import Flask
from flask_babel import lazy_gettext
from werkzeug.routing import IntegerConverter

import config as settings
import i18n
import pagecache
import ratelimits
from extensions import csrf, db, login_manager, make_redis, migrate

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(settings.from_environment(app.instance_path))
    app.config.update(config or {})
    settings.check_production(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)

    register_extensions(app)
    register_blueprints(app)
    ratelimits.init_app(app)  # after the blueprints: it wraps their views
    register_error_handlers(app)
    register_commands(app)
    pagecache.init_app(app)  # last: it wraps the whole WSGI app
    if app.config["AUTO_MIGRATE"]:
        upgrade_database(app)
    return app


def import_models() -> None:
    """Every model module, so the metadata (and Alembic) sees every table."""
    import accounts.models  # noqa: F401
    import campaigns.models  # noqa: F401
    import challenges.models  # noqa: F401
    import childsafe.models  # noqa: F401
    import classes.models  # noqa: F401
    import events.models  # noqa: F401
    import integrity.models  # noqa: F401
    import moderation.models  # noqa: F401
    import notifications.models  # noqa: F401
    import open311.models  # noqa: F401
    import scoring.models  # noqa: F401
    import webhooks.models  # noqa: F401


def register_extensions(app: Flask) -> None:
    import_models()
    from scoring import projection
    from scoring.leaderboards import RedisLeaderboard, SqlLeaderboard

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    csrf.init_app(app)
    i18n.init_app(app)  # Flask-Babel: English and Welsh (README, "Languages")
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = lazy_gettext("Please log in to do that.")
    login_manager.login_message_category = "info"

    from accounts.models import User

    @login_manager.user_loader
    def load_user(session_id: str):
        """"<user id>.<session epoch>": a session from before the person's last logout or
        password reset names an old epoch and is no longer anyone's."""
        user_id, _, epoch = session_id.partition(".")
        if not (user_id.isdigit() and epoch.isdigit() and len(user_id) < 19 and len(epoch) < 19):
            return None
        user = db.session.get(User, int(user_id))
        if user is None or user.session_epoch != int(epoch) or user.is_suspended():
            return None
        return user

    sql_board = SqlLeaderboard(lambda: db.engine)
    client = None
    if app.config["REDIS_URL"]:
        client = make_redis(app.config["REDIS_URL"])
    app.extensions["fixquest.redis"] = client
    app.extensions["fixquest.leaderboard"] = (
        RedisLeaderboard(client, sql_board, auto_repair=not app.testing) if client is not None else sql_board)
    projection.install()

    from media import services as media_services
    from media import storage as media_storage
    import live
    from notifications import wiring as notifications_wiring

    app.extensions["fixquest.storage"] = media_storage.from_config(app.config)
    media_services.install()
    notifications_wiring.init_app(app)  # mail sender, job queue, after-commit dispatch
    live.init_app(app)  # the hub for Server-Sent Events (Redis pub/sub or in-process)


class BoundedIntConverter(IntegerConverter):
    """<int:...> URL parts stop at the largest id a database column holds, so an absurd id
    is a 404 instead of an overflow deep in the database driver."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)  # ids are INTEGER columns (PostgreSQL: 32 bits)
        super().__init__(map, *args, **kwargs)


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    from accounts.views import bp as accounts_bp
    from campaigns.views import bp as campaigns_bp
    from api import bp as api_bp
    from challenges.views import bp as challenges_bp
    from childsafe.views import bp as childsafe_bp
    from classes.views import bp as classes_bp
    from feeds.views import bp as feeds_bp
    from maps.views import bp as maps_bp
    from media.views import bp as media_bp
    from notifications.views import bp as notifications_bp
    from open311.views import bp as open311_bp
    from scoring.profile_views import bp as profiles_bp
    from scoring.views import bp as scoring_bp
    from web import bp as web_bp

    csrf.exempt(api_bp)  # bearer-token API: no cookies, so no CSRF
    csrf.exempt(open311_bp)  # api_key in the form, no cookies
    for blueprint in (web_bp, accounts_bp, challenges_bp, scoring_bp, profiles_bp, notifications_bp, feeds_bp, maps_bp,
                      media_bp, api_bp, open311_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(childsafe_bp)  # children's privacy: the teacher's moderation queue
    app.register_blueprint(classes_bp)
    from events.views import bp as events_bp
    app.register_blueprint(events_bp)
    from webhooks.views import bp as webhooks_bp
    app.register_blueprint(webhooks_bp)  # webhook pages and the `flask webhooks` CLI
    app.register_blueprint(campaigns_bp)
    from opendata.views import bp as opendata_bp
    app.register_blueprint(opendata_bp)  # /data: open datasets, streamed
    app.register_blueprint(i18n.bp)  # /language: the language switcher
    from integrity.views import bp as integrity_bp
    app.register_blueprint(integrity_bp)  # anti-cheating alerts on the Organise page
    from moderation.views import bp as moderation_bp
    app.register_blueprint(moderation_bp)  # flags, the moderators' queue, suspensions, word list, audit log


def register_error_handlers(app: Flask) -> None:
    from web import register_error_pages, register_security_headers, register_template_helpers

    register_error_pages(app)
    import outages
    outages.init_app(app)  # the database away: 503 on every surface, not 500
    register_template_helpers(app)
    register_security_headers(app)


def register_commands(app: Flask) -> None:
    from accounts.commands import users_cli
    from demo import demo_command
    from notifications.commands import notifications_cli
    from open311.commands import open311_cli
    from scoring.commands import scoring_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(scoring_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(open311_cli)
    app.cli.add_command(demo_command)


def upgrade_database(app: Flask) -> None:
    """Bring the schema to the newest migration. On PostgreSQL an advisory lock makes
    several gunicorn workers starting at once take turns."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as lock:
                lock.execute(text("SELECT pg_advisory_lock(7140031)"))
                try:
                    upgrade(directory=MIGRATIONS_DIR)
                finally:
                    lock.execute(text("SELECT pg_advisory_unlock(7140031)"))
                    lock.commit()
        else:
            upgrade(directory=MIGRATIONS_DIR)
