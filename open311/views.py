"""The Open311 GeoReport v2 endpoints under /open311/v2/. CSRF-exempt: the only state
change (POST requests) is authorised by an api_key in the form, never by a cookie. Open
to any origin, with ETags and 304s on reads (openhttp.py)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app, request, url_for
from werkzeug.exceptions import HTTPException, default_exceptions

import openhttp
from errors import DomainError
from extensions import db
from media.services import photos_for
from open311 import formats, services
from open311.ratelimit import LIMITER_KEY, make_limiter

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
bp.after_request(openhttp.open_to_all)

# When this API's shape last changed (the discovery document's changeset).
CHANGESET = datetime(2026, 11, 27, tzinfo=timezone.utc)
# Our Open311 error codes are HTTP statuses; FixQuest's 409/422 are the spec's 400.
OPEN311_STATUS = {409: 400, 422: 400}


@bp.record_once
def _install_limiter(state) -> None:
    state.app.extensions.setdefault(LIMITER_KEY, make_limiter(state.app.extensions.get("fixquest.redis")))


def _format(fmt: str) -> str:
    if fmt not in formats.FORMATS:
        raise services.UnknownResource(f"Unknown format {fmt!r}: use .xml or .json.")
    return fmt


def _categories():
    return current_app.config["CATEGORIES"]


def _base_url() -> str:
    public = current_app.config.get("PUBLIC_URL")
    return (str(public).rstrip("/") if public else request.url_root.rstrip("/")) + bp.url_prefix


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    status = OPEN311_STATUS.get(error.status, error.status)
    descriptions = ([f"{name}: {text}" for name, texts in error.fields.items() for text in texts]
                    or [error.message])
    return formats.respond_errors((request.view_args or {}).get("fmt", "xml"), status, descriptions)


def _http_error(error: HTTPException):
    return formats.respond_errors((request.view_args or {}).get("fmt", "xml"), error.code or 400,
                                  [_description(error)])


def _description(error: HTTPException) -> str:
    if error.code == 413:
        return f"The request is larger than the {current_app.config['MAX_CONTENT_LENGTH']} bytes allowed."
    return error.description or error.name


# Status-keyed handlers (the site's HTML 404/413 pages) win over class-keyed ones: register
# the Open311 error list for every status, as the JSON API does (api/errors.py).
for _code in default_exceptions:
    bp.register_error_handler(_code, _http_error)
bp.register_error_handler(HTTPException, _http_error)


@bp.get("/discovery.<fmt>")
def discovery(fmt: str):
    doc = formats.discovery_doc(url=_base_url(), changeset=CHANGESET,
                                contact=current_app.config.get("OPEN311_CONTACT") or "",
                                key_service=current_app.config.get("OPEN311_KEY_SERVICE")
                                or "Ask this site's operators for an api_key.")
    return formats.respond(_format(fmt), doc, root="discovery")


@bp.get("/services.<fmt>")
def service_list(fmt: str):
    docs = [formats.service_doc(service) for service in services.catalogue(_categories())]
    return formats.respond(_format(fmt), docs, root="services", item="service")


@bp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str):
    fmt = _format(fmt)
    return formats.respond(fmt, formats.definition_doc(services.service_for(_categories(), code)),
                           root="service_definition")


@bp.post("/requests.<fmt>")
def create_request(fmt: str):
    fmt = _format(fmt)
    key = services.key_for(db.session, request.values.get("api_key"))
    services.check_rate(current_app.extensions[LIMITER_KEY], key,
                        limit=int(current_app.config.get("OPEN311_RATE_LIMIT", 60)))
    submission = services.submit_request(db.session, key=key, form=request.form, categories=_categories(),
                                         radius_m=current_app.config["NEARBY_RADIUS_M"])
    db.session.commit()
    return formats.respond(fmt, [formats.receipt_doc(submission.problem)], root="service_requests", item="request")


@bp.get("/requests.<fmt>")
def request_list(fmt: str):
    fmt = _format(fmt)
    query = services.parse_query(request.args, categories=_categories())
    return _requests(fmt, services.find_requests(db.session, query))


@bp.get("/requests/<service_request_id>.<fmt>")
def request_detail(service_request_id: str, fmt: str):
    fmt = _format(fmt)
    return _requests(fmt, [services.get_request(db.session, service_request_id)])


@bp.get("/tokens/<token>.<fmt>")
def token(token: str, fmt: str):
    """Requests are created at once, so no token is ever issued: every token is unknown."""
    _format(fmt)
    raise services.UnknownResource(f"token {token!r} not found: this server issues no tokens "
                                   "(POST requests answers with the service_request_id).")


@bp.get("/servicerequestupdates.<fmt>")
def request_updates(fmt: str):
    fmt = _format(fmt)
    updates = services.find_updates(db.session, args=request.args)
    photos = photos_for(db.session, update_ids=[u.update_row_id for u in updates if u.update_row_id]).updates
    urls = formats.photo_url_for([u.update_row_id for u in updates if u.update_row_id], photos, _photo_url)
    docs = [formats.update_doc(u, urls.get(u.update_row_id)) for u in updates]
    return formats.respond(fmt, docs, root="service_request_updates", item="request_update")


@bp.route("/<path:unknown>", methods=["GET", "POST"])
def unknown(unknown: str):
    raise services.UnknownResource(f"No Open311 resource {unknown!r} here.")


def _photo_url(storage_key: str) -> str:
    return url_for("media.full", key=storage_key, _external=True)


def _requests(fmt: str, problems):
    ids = [p.id for p in problems]
    sent = services.media_urls(db.session, ids)
    photos = formats.photo_url_for(ids, photos_for(db.session, problem_ids=ids).problems, _photo_url)
    extensions = request.args.get("extensions", "").lower() == "true"
    docs = [formats.request_doc(p, categories=_categories(), agency=current_app.config.get("OPEN311_AGENCY"),
                                media_url=sent.get(p.id) or photos.get(p.id), extensions=extensions)
            for p in problems]
    return formats.respond(fmt, docs, root="service_requests", item="request")
