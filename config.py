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


def _map_centre_from_env() -> tuple[float, float]:
    """FIXQUEST_MAP_CENTRE as "lat,lon" (WGS84): where maps open when nothing else is known."""
    raw = os.environ.get("FIXQUEST_MAP_CENTRE", "51.4545,-2.5879")  # Bristol
    try:
        lat, lon = (float(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(f'FIXQUEST_MAP_CENTRE must be "lat,lon", like "51.4545,-2.5879", not {raw!r}.') from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ConfigError(f"FIXQUEST_MAP_CENTRE {raw!r} is not a place on Earth.")
    return lat, lon


def _map_zoom_from_env() -> int:
    raw = os.environ.get("FIXQUEST_MAP_ZOOM", "13")
    if not raw.isdigit() or not 1 <= int(raw) <= 19:
        raise ConfigError(f"FIXQUEST_MAP_ZOOM must be a whole number from 1 to 19, not {raw!r}.")
    return int(raw)


def _positive_int_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(f"{name} must be a whole number above zero, not {raw!r}.")
    return value


def _int_from_env(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {raw!r}.")
    return value


def _multipliers_from_env() -> dict[str, float]:
    from scoring.rules import RuleError, parse_multipliers

    try:
        return parse_multipliers(os.environ.get("FIXQUEST_DIFFICULTY_MULTIPLIERS", "easy=1,medium=1.5,hard=2"))
    except RuleError as error:
        raise ConfigError(f"FIXQUEST_DIFFICULTY_MULTIPLIERS: {error}") from None


def _flag_from_env(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    return default if not raw else raw not in ("0", "false", "no", "off")


def _ratelimit_overrides_from_env() -> dict[str, str]:
    """FIXQUEST_RATELIMIT_<BLUEPRINT>_<VIEW>=limit, e.g. FIXQUEST_RATELIMIT_ACCOUNTS_LOGIN="20/minute"
    for the endpoint accounts.login; ratelimits.py checks the names and the limits."""
    prefix = "FIXQUEST_RATELIMIT_"
    return {name[len(prefix):].lower().replace("_", ".", 1): value.strip()
            for name, value in os.environ.items() if name.startswith(prefix) and value.strip()}


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
        # The place's name in the home page's impact numbers ("Riverside has fixed 143 problems").
        "PLACE_NAME": os.environ.get("FIXQUEST_PLACE_NAME", "").strip() or "Our town",
        "NEARBY_RADIUS_M": float(os.environ.get("FIXQUEST_NEARBY_RADIUS_M", "50")),
        "SCORING_MULTIPLIERS": _multipliers_from_env(),
        "SCORING_REVIEWER_POINTS": _int_from_env("FIXQUEST_REVIEWER_POINTS", 1, 0, 100),
        "SCORING_TEAM_SPLIT": os.environ.get("FIXQUEST_TEAM_SPLIT", "full"),
        "PEER_REVIEW_LEVEL": _int_from_env("FIXQUEST_PEER_REVIEW_LEVEL", 2, 1, 100),
        "FIX_COOLDOWN_DAYS": _int_from_env("FIXQUEST_FIX_COOLDOWN_DAYS", 30, 0, 3650),
        "APPROVAL_BURST_LIMIT": _int_from_env("FIXQUEST_APPROVAL_BURST_LIMIT", 8, 1, 10_000),
        "APPROVAL_BURST_HOURS": _int_from_env("FIXQUEST_APPROVAL_BURST_HOURS", 24, 1, 24 * 366),
        "BADGE_POINTS": _int_from_env("FIXQUEST_BADGE_POINTS", 10, 0, 1000),
        "OPEN311_RATE_LIMIT": _int_from_env("FIXQUEST_OPEN311_RATE_LIMIT", 60, 1, 100_000),
        "OPEN311_AGENCY": os.environ.get("FIXQUEST_OPEN311_AGENCY", "FixQuest"),
        "OPEN311_CONTACT": os.environ.get("FIXQUEST_OPEN311_CONTACT", "See this site's contact page."),
        "PROPOSE_QUEST_LEVEL": _int_from_env("FIXQUEST_PROPOSE_QUEST_LEVEL", 5, 1, 100),
        "AUTO_MIGRATE": os.environ.get("FIXQUEST_AUTO_MIGRATE", "1") != "0",
        "PASSWORD_HASH_METHOD": "scrypt",
        "MIN_PASSWORD_LENGTH": 10,
        "UNVERIFIED_REPORT_LIMIT": _int_from_env("FIXQUEST_UNVERIFIED_REPORT_LIMIT", 3, 0, 1000),
        "PASSWORD_RESET_MAX_AGE_S": _int_from_env("FIXQUEST_PASSWORD_RESET_MINUTES", 60, 5, 24 * 60) * 60,
        "PAGE_SIZE": 20,
        # The largest request body (FIXQUEST_MAX_CONTENT_LENGTH bytes): by default room for a form
        # with three photos of PHOTO_MAX_BYTES and its text. Larger: 413 (README "Bad input").
        "MAX_CONTENT_LENGTH": _positive_int_from_env(
            "FIXQUEST_MAX_CONTENT_LENGTH", 3 * _positive_int_from_env("FIXQUEST_PHOTO_MAX_BYTES", 8 * 1024 * 1024)
            + 1024 * 1024),
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "MAP_TILE_URL": os.environ.get("FIXQUEST_MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
        "MAP_ATTRIBUTION": os.environ.get("FIXQUEST_MAP_ATTRIBUTION", "&copy; OpenStreetMap contributors"),
        "MAP_CENTRE": _map_centre_from_env(),
        "MAP_ZOOM": _map_zoom_from_env(),
        "PHOTO_MAX_BYTES": _positive_int_from_env("FIXQUEST_PHOTO_MAX_BYTES", 8 * 1024 * 1024),
        "PHOTO_MAX_PIXELS": _positive_int_from_env("FIXQUEST_PHOTO_MAX_PIXELS", 50_000_000),
        "PHOTO_STORAGE": os.environ.get("FIXQUEST_PHOTO_STORAGE", "local"),
        "PHOTO_STORAGE_PATH": os.environ.get("FIXQUEST_PHOTO_STORAGE_PATH") or os.path.join(instance_path, "photos"),
        # Notifications (see notifications/ and README "Notifications"); checked in notifications.wiring.
        "SMTP_HOST": os.environ.get("SMTP_HOST") or None,
        "SMTP_PORT": os.environ.get("SMTP_PORT", "587"),
        "SMTP_USERNAME": os.environ.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD") or None,
        "SMTP_USE_TLS": os.environ.get("SMTP_USE_TLS", "1").strip().lower() not in ("0", "false", "no", "off"),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "FixQuest <noreply@localhost>"),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL") or None,
        "UNSUBSCRIBE_MAX_AGE_DAYS": os.environ.get("UNSUBSCRIBE_MAX_AGE_DAYS", "60"),
        "DIGEST_HOUR": os.environ.get("DIGEST_HOUR", "7"),
        "NOTIFY_MAX_ATTEMPTS": os.environ.get("NOTIFY_MAX_ATTEMPTS", "5"),
        "NOTIFY_CLAIM_LEASE_SECONDS": os.environ.get("NOTIFY_CLAIM_LEASE_SECONDS", "600"),
        # Rate limits (see ratelimits.py and README "Rate limits").
        "RATELIMIT_ENABLED": _flag_from_env("RATELIMIT_ENABLED", True),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or None,  # None: REDIS_URL, else memory
        "RATELIMIT_OVERRIDES": _ratelimit_overrides_from_env(),
        "TRUSTED_PROXIES": _int_from_env("FIXQUEST_TRUSTED_PROXIES", 0, 0, 10),
        # Visitors' pages kept in memory per process (see pagecache.py and README "Fast pages for visitors").
        "VISITOR_CACHE_SECONDS": _int_from_env("FIXQUEST_VISITOR_CACHE_SECONDS", 10, 0, 3600),  # 0: off
        "VISITOR_CACHE_ENTRIES": _int_from_env("FIXQUEST_VISITOR_CACHE_ENTRIES", 512, 1, 100_000),
        "VISITOR_CACHE_MAX_BYTES": _int_from_env("FIXQUEST_VISITOR_CACHE_MAX_BYTES", 32 * 1024 * 1024, 1, 1 << 34),
        # Teams (see README "Teams"): the most members a team may have; a team may set a lower limit.
        "TEAM_MAX_SIZE": _int_from_env("FIXQUEST_TEAM_MAX_SIZE", 12, 2, 10_000),
        # Children's privacy (see childsafe/ and README "Children's privacy"); checked in childsafe.views.
        "CHILD_QUIET_HOURS": os.environ.get("FIXQUEST_CHILD_QUIET_HOURS", "18:00-08:00"),
        "CHILD_QUIET_DAYS": os.environ.get("FIXQUEST_CHILD_QUIET_DAYS", "sat,sun"),
        # Webhooks (see webhooks/ and README "Webhooks").
        "WEBHOOK_SIGNING_KEY": os.environ.get("FIXQUEST_WEBHOOK_SIGNING_KEY") or None,  # None: SECRET_KEY
        "WEBHOOK_TIMEOUT_SECONDS": _int_from_env("FIXQUEST_WEBHOOK_TIMEOUT_SECONDS", 5, 1, 60),
        "WEBHOOK_RETRY_HOURS": _int_from_env("FIXQUEST_WEBHOOK_RETRY_HOURS", 24, 1, 168),
        "WEBHOOK_DISABLE_AFTER": _int_from_env("FIXQUEST_WEBHOOK_DISABLE_AFTER", 5, 1, 1000),
        # Campaigns (see campaigns/ and README "Campaigns and impact"): points per pledge token.
        "TOKEN_POINTS": _int_from_env("FIXQUEST_TOKEN_POINTS", 10, 1, 100_000),
        # Live updates (see live/ and README "Live updates"); gunicorn.conf.py sets the cap from its threads.
        "LIVE_MAX_STREAMS": _int_from_env("FIXQUEST_LIVE_MAX_STREAMS", 0, 0, 100_000),  # per process; 0: no cap
        "LIVE_STREAM_MAX_SECONDS": _int_from_env("FIXQUEST_LIVE_STREAM_MAX_SECONDS", 3600, 0, 86_400),
        "LIVE_KEEPALIVE_SECONDS": 15.0,
        # Open data (see opendata/ and README "Open data"): the licence every dataset is published under.
        # Words that hold a new post for a moderator (moderation/wordlist.py), besides the admins' list.
        "MODERATION_WORDS": tuple(w.strip() for w in os.environ.get("FIXQUEST_MODERATION_WORDS", "").split(",")
                                  if w.strip()),
        "DATA_LICENCE_NAME": os.environ.get("FIXQUEST_DATA_LICENCE_NAME", "Open Government Licence v3.0"),
        "DATA_LICENCE_URL": os.environ.get("FIXQUEST_DATA_LICENCE_URL",
                                           "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"),
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
