"""Languages: English and Welsh through Flask-Babel (README, "Languages").

The interface's strings are marked with `_()` / `gettext` (templates, flash messages) and
`lazy_gettext` (form labels). The catalogues live as .po files in translations/; the .mo
files Flask-Babel reads are compiled from them into the instance folder when missing or
older than their .po, so a fresh clone runs without a build step and no binary is committed.

Which language a request gets: the person's explicit choice (stored on their account when
signed in, and in a cookie for everyone), then the browser's Accept-Language among the
supported ones, then English.
"""
from __future__ import annotations

import logging
import os
import tempfile

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask, current_app, has_request_context, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, SelectField

from extensions import babel, db
from forms import Form

# Language code -> its own name (the switcher shows each language in itself).
LANGUAGES = {"en": "English", "cy": "Cymraeg"}
DEFAULT_LOCALE = "en"
# What <html lang> says for each: our English is British English.
HTML_LANG = {"en": "en-GB", "cy": "cy"}
COOKIE = "fixquest_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
SOURCE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "translations")
DOMAIN = "messages"

bp = Blueprint("i18n", __name__)

# Stored values shown to people (states, difficulties, modes, the default categories), by
# value: `{{ problem.status|word }}`. A value not listed (a site's own category) shows as is.
WORDS = {
    "open": _l("open"), "confirmed": _l("confirmed"), "in_progress": _l("in progress"), "fixed": _l("fixed"),
    "closed": _l("closed"), "easy": _l("easy"), "medium": _l("medium"), "hard": _l("hard"), "solo": _l("solo"),
    "team": _l("team"), "taken": _l("taken"), "submitted": _l("submitted"), "approved": _l("approved"),
    "rejected": _l("rejected"), "reversed": _l("reversed"), "published": _l("published"),
    "proposed": _l("proposed"), "pothole": _l("pothole"), "litter": _l("litter"), "fly-tipping": _l("fly-tipping"),
    "graffiti": _l("graffiti"), "street lighting": _l("street lighting"), "broken furniture": _l("broken furniture"),
    "overgrown vegetation": _l("overgrown vegetation"), "other": _l("other"),
}


def word(value) -> str:
    """A stored value in the reader's language (`in_progress` -> "in progress", "ar y gweill")."""
    text = "" if value is None else str(getattr(value, "value", value))
    translated = WORDS.get(text)
    return str(translated) if translated is not None else text.replace("_", " ")


class UnknownLanguage(ValueError):
    """A language the site has no catalogue for."""

    def __init__(self, code: str):
        super().__init__(f"No catalogue for language {code!r}.")
        self.code = code


def supported(code: str | None) -> str | None:
    """The supported language `code` names (case and region ignored: "cy-GB" is "cy"), or None."""
    if not code:
        return None
    language = code.strip().lower().replace("_", "-").split("-", 1)[0]
    return language if language in LANGUAGES else None


def choose_locale() -> str:
    """Flask-Babel's locale selector: the account's choice, the cookie, the browser, English.
    Outside a request (emails sent by a worker, CLI commands): English."""
    if not has_request_context():
        return DEFAULT_LOCALE
    if current_user and current_user.is_authenticated:
        chosen = supported(getattr(current_user, "locale", None))
        if chosen:
            return chosen
    chosen = supported(request.cookies.get(COOKIE))
    if chosen:
        return chosen
    return request.accept_languages.best_match(tuple(LANGUAGES), default=DEFAULT_LOCALE)


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else DEFAULT_LOCALE


def remember_language(session, *, actor, code: str) -> None:
    """Keep a signed-in person's language on their account, so it follows them to every device."""
    language = supported(code)
    if language is None:
        raise UnknownLanguage(code)
    actor.locale = language
    session.flush()


def compile_catalogues(source: str, target: str) -> list[str]:
    """Compile every source/<lang>/LC_MESSAGES/*.po into target/ when its .mo is missing or
    older than the .po. Written to a temporary file and renamed, so workers starting at the
    same time never read half a file. Returns the .mo paths written."""
    written = []
    for language in sorted(os.listdir(source)) if os.path.isdir(source) else []:
        folder = os.path.join(source, language, "LC_MESSAGES")
        if not os.path.isdir(folder):
            continue
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".po"):
                continue
            po_path = os.path.join(folder, name)
            mo_path = os.path.join(target, language, "LC_MESSAGES", name[:-3] + ".mo")
            if os.path.exists(mo_path) and os.path.getmtime(mo_path) >= os.path.getmtime(po_path):
                continue
            os.makedirs(os.path.dirname(mo_path), exist_ok=True)
            with open(po_path, "rb") as po_file:
                catalog = read_po(po_file, locale=language)
            temporary = f"{mo_path}.{os.getpid()}.tmp"
            with open(temporary, "wb") as mo_file:
                write_mo(mo_file, catalog)
            os.replace(temporary, mo_path)
            written.append(mo_path)
    return written


def init_app(app: Flask) -> None:
    compiled = os.path.join(app.instance_path, "translations")
    try:
        compile_catalogues(SOURCE_DIR, compiled)
    except OSError as error:  # a read-only instance folder: compile into a private temporary one
        compiled = tempfile.mkdtemp(prefix="fixquest-translations-")
        logging.getLogger(__name__).warning("compiling translations into %s (%s)", compiled, error)
        compile_catalogues(SOURCE_DIR, compiled)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config.get("TIMEZONE", "UTC"))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = compiled
    babel.init_app(app, locale_selector=choose_locale)

    app.add_template_filter(word, "word")

    @app.context_processor
    def language_context():
        language = current_language()
        return {"current_language": language, "html_lang": HTML_LANG[language], "languages": LANGUAGES,
                "language_form": LanguageForm}

    @app.after_request
    def vary_on_language(response):
        """A page's language depends on these headers: shared caches must not mix them up."""
        if response.mimetype == "text/html":
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        return response


def localised_time(value) -> str:
    """A time as people read it, in the site's time zone: "27 Nov 2026, 09:30" in English
    (exactly as before translations), with the month's name in the reader's language otherwise."""
    from babel.dates import format_datetime
    from zoneinfo import ZoneInfo

    from timeutil import as_utc, local_text

    zone = current_app.config["TIMEZONE"]
    language = current_language()
    if value is None or language == DEFAULT_LOCALE:
        return local_text(value, zone)
    return format_datetime(as_utc(value), "d MMM y, HH:mm", tzinfo=ZoneInfo(zone), locale=language)


class LanguageForm(Form):
    locale = SelectField(_l("Language"), choices=list(LANGUAGES.items()))
    next = HiddenField()


def _back_to(target: str | None):
    from web import is_safe_next

    return redirect(target if is_safe_next(target) else url_for("web.home"))


def _set_cookie(response, language: str) -> None:
    response.set_cookie(COOKIE, language, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True,
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False))


@bp.post("/language")
def switch_language():
    """The switcher in a signed-in person's footer: remember the choice on the account and in
    the cookie, then back to the same page."""
    form = LanguageForm()
    response = _back_to(form.next.data)
    if form.validate_on_submit():
        _set_cookie(response, form.locale.data)
        if current_user.is_authenticated:
            remember_language(db.session, actor=current_user, code=form.locale.data)
            db.session.commit()
    return response


@bp.get("/language/<locale>")
def choose_language(locale: str):
    """The switcher in a visitor's footer: a plain link that only sets the language cookie
    (nothing is stored, so no form token is needed and visitors' pages need no session).
    A signed-in person's account keeps its own choice; they change it with the form."""
    response = _back_to(request.args.get("next"))
    language = supported(locale)
    if language:
        _set_cookie(response, language)
    return response
