"""/data: the open data catalogue (HTML and JSON) and the streamed downloads."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from extensions import db
from openhttp import open_to_all
from opendata import services
from timeutil import utcnow

bp = Blueprint("opendata", __name__)


@bp.after_request
def _open_to_software(response):
    """Downloads and the JSON catalogue are for any site's software (CORS, ETags where not
    streamed); the HTML page is not an interface."""
    return response if request.endpoint == "opendata.index" else open_to_all(response)


def _licence() -> dict:
    return {"name": current_app.config["DATA_LICENCE_NAME"], "url": current_app.config["DATA_LICENCE_URL"]}


def _download_url(dataset_id: str, fmt: str) -> str:
    return url_for("opendata.download", dataset=dataset_id, fmt=fmt, _external=True)


@bp.get("/data")
def index():
    entries = services.catalogue(db.session, licence=_licence(), url_for=_download_url)
    return render_template("opendata/index.html", entries=entries, licence=_licence())


@bp.get("/data.json")
def catalogue_json():
    entries = services.catalogue(db.session, licence=_licence(), url_for=_download_url)
    response = jsonify(services.catalogue_document(entries, licence=_licence()))
    response.headers["Link"] = f'<{_licence()["url"]}>; rel="license"'
    return response


@bp.get("/data/<dataset>.<fmt>")
def download(dataset: str, fmt: str):
    found = services.get_dataset(dataset, fmt)
    db.session.remove()  # the stream reads through its own session; hold no connection meanwhile
    chunks = services.export(found, fmt, engine=db.engine, licence=_licence(), zone=current_app.config["TIMEZONE"],
                             now=utcnow())
    response = Response(chunks, mimetype=services.MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="fixquest-{found.id}.{fmt}"'
    response.headers["Link"] = f'<{_licence()["url"]}>; rel="license"'
    return response
