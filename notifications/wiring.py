"""Attach notifications to an app: the mail sender, the job queue, the after-commit hook
and the header's unread count. Called once from create_app (register_extensions)."""
from __future__ import annotations

import logging

from flask import Flask, g, has_request_context
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from config import ConfigError
from extensions import db
from notifications import dispatch
from notifications.jobs import make_queue
from notifications.mail import make_sender

log = logging.getLogger(__name__)

DEFAULTS = {
    "SMTP_HOST": None,
    "SMTP_PORT": 587,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_USE_TLS": True,
    "MAIL_FROM": "FixQuest <noreply@localhost>",
    "PUBLIC_URL": None,
    "UNSUBSCRIBE_MAX_AGE_DAYS": 60,
    "DIGEST_HOUR": 7,
    "NOTIFY_MAX_ATTEMPTS": 5,
    "NOTIFY_THREADS": 2,
    "NOTIFY_CLAIM_LEASE_SECONDS": 600,
}


# Whole-number settings and their allowed ranges.
INT_RANGES = {
    "SMTP_PORT": (1, 65535),
    "UNSUBSCRIBE_MAX_AGE_DAYS": (1, 3650),
    "DIGEST_HOUR": (0, 23),
    "NOTIFY_MAX_ATTEMPTS": (1, 20),
    "NOTIFY_THREADS": (1, 32),
    "NOTIFY_CLAIM_LEASE_SECONDS": (5, 86_400),
}


def check_config(config) -> None:
    """Fill in defaults and turn the whole-number settings (strings from the environment)
    into ints, refusing to start on a value that makes no sense."""
    for key, value in DEFAULTS.items():
        if config.get(key) is None:
            config[key] = value
    for key, (low, high) in INT_RANGES.items():
        raw = config[key]
        try:
            value = int(str(raw).strip())
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise ConfigError(f"{key} must be a whole number from {low} to {high}, not {raw!r}.")
        config[key] = value


def init_app(app: Flask) -> None:
    check_config(app.config)
    app.extensions["fixquest.mail"] = make_sender(app.config)
    app.extensions["fixquest.jobs"] = make_queue(app)
    dispatch.install()
    app.context_processor(lambda: {"unread_notifications": unread_notifications})


def unread_notifications() -> int | None:
    """The header's unread count: one indexed COUNT per page, only when a page asks for it
    and someone is logged in; None (no number shown) if the database cannot answer, so an
    error page still renders."""
    if not has_request_context() or not current_user.is_authenticated:
        return None
    if "fixquest_unread" not in g:
        from notifications.services import unread_count

        try:
            g.fixquest_unread = unread_count(db.session, current_user.id)
        except SQLAlchemyError:
            log.warning("unread count unavailable", exc_info=True)
            g.fixquest_unread = None
    return g.fixquest_unread
