"""Site-wide pages (home) and the web surface's error handling."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError

from errors import DomainError, Forbidden, NotFound
from extensions import db
from pagecache import for_visitors

bp = Blueprint("web", __name__)


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths are followed after login or an error."""
    if not target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") \
        and "\\" not in target


def apply_errors(form, error: DomainError) -> None:
    """Show a service's field errors beside the form's fields; others as a flash message."""
    unplaced = []
    for name, messages in error.fields.items():
        field = getattr(form, name, None)
        if field is None:
            unplaced.extend(messages)
        else:
            field.errors = list(field.errors) + list(messages)
    if unplaced or not error.fields:
        flash(" ".join(unplaced) or error.message, "error")


def add_rule_errors(form, problems: dict[str, list[str]]) -> None:
    """After the form's own checks failed, also show the domain rules' findings on the
    fields that passed them, so a person sees every problem in one go."""
    for name, messages in problems.items():
        field = getattr(form, name, None)
        if field is not None and not field.errors:
            field.errors = list(field.errors) + list(messages)


def flash_form_errors(form) -> None:
    """For one-button forms posted from another page: say what was wrong there."""
    flash(" ".join(message for messages in form.errors.values() for message in messages), "error")


@dataclass(frozen=True)
class UncountedPage:
    """A page of a long list without counting the whole list (COUNT over 100,000 rows costs
    more than the page): one row more than the page says whether another follows. It has
    the attributes the `pager` macro reads; `pages` and `total` are None."""

    items: list
    page: int
    has_next: bool
    pages: None = None
    total: None = None

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def paginate_uncounted(stmt, *, per_page: int) -> UncountedPage:
    """`?page=` of `stmt` (1 if missing or not a number); a page past the end is a 404, as
    with db.paginate."""
    page = request.args.get("page", 1, type=int)
    page = page if page and page > 0 else 1
    rows = list(db.session.scalars(stmt.limit(per_page + 1).offset((page - 1) * per_page)))
    if not rows and page > 1:
        abort(404)
    return UncountedPage(rows[:per_page], page, len(rows) > per_page)


@bp.get("/")
@for_visitors
def home():
    """A participant's next steps, or a visitor's view of the town (home.pages)."""
    from home.pages import home_context

    return render_template("home.html", **home_context())


@bp.get("/organise")
@login_required
def organise():
    """The organiser's tools in one place, with what is waiting for them (urgent first)."""
    if not current_user.is_organiser:
        raise Forbidden("open the organiser's tools", "they are for organisers.")
    from accounts.services import team_ids_of
    from challenges.reviews import review_queue
    from childsafe.services import waiting_for
    from classes.services import classes_of_teacher
    from integrity.services import is_involved, open_alerts
    from moderation.services import waiting_count as moderation_waiting
    from webhooks.services import webhooks_of

    my_teams = team_ids_of(db.session, current_user.id)
    return render_template("organise.html", reviews=len(review_queue(db.session, current_user)),
                           pupils_work=len(waiting_for(db.session, current_user)),
                           classes=len(classes_of_teacher(db.session, current_user.id)),
                           webhooks=len(webhooks_of(db.session, actor=current_user)),
                           alerts=[(alert, is_involved(db.session, current_user, alert, my_teams))
                                   for alert in open_alerts(db.session)],
                           moderation=moderation_waiting(db.session))


@bp.get("/api/docs")
def api_docs():
    """The API's human-readable reference: Swagger UI (vendored) over /api/v1/openapi.json."""
    return render_template("api/docs.html", spec_url=url_for("api.openapi_document"))


def register_template_helpers(app) -> None:
    from i18n import localised_time
    from timeutil import isoformat, utcnow

    app.add_template_filter(localised_time, "localtime")  # month names in the reader's language

    app.add_template_filter(isoformat, "iso")
    app.add_template_global(utcnow, "now")
    app.add_template_global(closes_in, "closes_in")


def closes_in(ends_at, now) -> str:
    """"closes in 3 hours": the countdown's words (static/js/countdown.js keeps them ticking)."""
    seconds = (ends_at - now).total_seconds()
    if seconds <= 0:
        return "closed"
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"closes in {count} {unit}{'s' if count != 1 else ''}"
    return "closes in less than a minute"


def content_security_policy(tile_url: str) -> str:
    """Our own scripts and styles only (no inline script anywhere), images from us and the
    map's tile server, no framing by other sites, forms posting only to us."""
    tiles = urlsplit(tile_url.replace("{s}", "a"))
    tile_origin = f"{tiles.scheme}://{tiles.netloc}" if tiles.scheme and tiles.netloc else ""
    if "{s}" in tile_url:
        tile_origin = f"{tiles.scheme}://*.{tiles.netloc.split('.', 1)[1]}"
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'",
        f"img-src 'self' data: {tile_origin}".strip(), "connect-src 'self'", "font-src 'self'",
        "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
    ])


def register_security_headers(app) -> None:
    policy = content_security_policy(app.config.get("MAP_TILE_URL", ""))
    production = app.config.get("FIXQUEST_ENV") == "production"

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)  # photo responses set a stricter one
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def register_error_pages(app) -> None:
    @app.errorhandler(404)
    def not_found(error):
        return render_template("error.html", title="Page not found",
                               message="We could not find that page."), 404

    @app.errorhandler(403)
    def forbidden(error):
        return render_template("error.html", title="Not allowed",
                               message=getattr(error, "description", "You may not do that.")), 403

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return render_template("error.html", title="Form expired",
                               message="The form was missing its security token or it expired. "
                                       "Go back, reload the page and try again."), 400

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        """Errors a view did not handle itself: an error page or back with a message."""
        if request.blueprint == "api":
            raise error  # the API blueprint has its own handler
        if isinstance(error, NotFound):
            return not_found(error)
        if isinstance(error, Forbidden):
            return render_template("error.html", title="Not allowed", message=error.message), 403
        flash(error.message, "error")
        target = request.referrer
        if target and urlsplit(target).netloc == request.host:
            return redirect(target)
        return redirect(url_for("web.home"))

    @app.errorhandler(413)
    def too_large(error):
        """The body was refused unread (MAX_CONTENT_LENGTH), so the form cannot be shown again
        with what was typed; the browser still has it: send the person back to it."""
        limit_mb = app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
        photo_mb = app.config["PHOTO_MAX_BYTES"] / (1024 * 1024)
        target = request.referrer
        back = target if target and urlsplit(target).netloc == request.host else None
        return render_template("error.html", title="That was too large to send",
                               message=f"We accept at most {limit_mb:.0f} MB in one go (each photo at most "
                                       f"{photo_mb:.0f} MB). Go back to the form: your browser still has what you "
                                       "typed. Choose a smaller photo, or fewer, and send it again.",
                               back=back), 413

    @app.errorhandler(400)
    def bad_request(error):
        return render_template("error.html", title="Something was wrong with that request",
                               message="Go back, reload the page and try again."), 400

    @app.errorhandler(405)
    def wrong_method(error):
        return render_template("error.html", title="Not available that way",
                               message="That address does not accept this kind of request."), 405

    @app.errorhandler(500)
    def server_error(error):
        return render_template("error.html", title="Sorry, something went wrong",
                               message="It was our fault, not yours, and nothing you sent was half-saved. "
                                       "Please try again in a moment."), 500
