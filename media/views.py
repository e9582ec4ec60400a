"""Serving photos: the cleaned picture and its thumbnail.

Keys never change what they point at, so public photos are cached for a year
(`immutable`). Photos of claims are evidence, often of children: they are served only to
people who may see the claim (the claimant, their team, organisers), never stored by
shared caches or left in a school computer's browser cache (`private, no-store`), and
anyone else gets the same 404 as for a key that does not exist.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app
from flask_login import current_user
from sqlalchemy import select

from challenges.models import Claim, Photo, Problem, ProblemUpdate
from extensions import db
from media.images import content_type_of
from media.services import thumb_key
from media.storage import InvalidKey, MissingObject, PhotoStorage, check_key

bp = Blueprint("media", __name__)
log = logging.getLogger(__name__)

PUBLIC_CACHE = "public, max-age=31536000, immutable"
PRIVATE_CACHE = "private, no-store"


def storage() -> PhotoStorage:
    return current_app.extensions["fixquest.storage"]


def upload_settings() -> dict:
    """The storage and limits save_photo(s) take, from the app: `**upload_settings()`."""
    return {"storage": storage(), "max_bytes": current_app.config["PHOTO_MAX_BYTES"],
            "max_pixels": current_app.config["PHOTO_MAX_PIXELS"]}


@bp.get("/photos/<key>.jpg")
def full(key: str):
    photo = _visible_photo(key)
    return _send(photo.storage_key, photo)


@bp.get("/photos/<key>/thumb.jpg")
def thumb(key: str):
    photo = _visible_photo(key)
    return _send(thumb_key(photo.storage_key), photo)


def _visible_photo(key: str) -> Photo:
    try:
        check_key(key)
    except InvalidKey:
        abort(404)
    photo = db.session.scalar(select(Photo).where(Photo.storage_key == key))
    if photo is None or (photo.claim_id is not None and not _may_see_claim(photo.claim_id)):
        abort(404)
    if not _moderation_allows(photo):
        abort(404)
    return photo


def _moderation_allows(photo: Photo) -> bool:
    """A photo of hidden or held content: only its owner and the moderators (and never
    cached publicly: see _send)."""
    from moderation.visibility import evidence_visible, problem_visible, update_visible

    photo.moderated = False
    if photo.problem_id is not None:
        problem = db.session.get(Problem, photo.problem_id)
        photo.moderated = problem.visibility != "public"
        return problem_visible(current_user, problem)
    if photo.update_id is not None:
        entry = db.session.get(ProblemUpdate, photo.update_id)
        photo.moderated = entry.visibility != "public" or entry.problem.visibility != "public"
        return update_visible(current_user, entry)
    if photo.claim_id is not None:
        claim = db.session.get(Claim, photo.claim_id)
        photo.moderated = claim.evidence_visibility != "public"
        if photo.moderated and not current_user.is_organiser:
            from challenges.services import can_act_for_claim

            return can_act_for_claim(db.session, current_user, claim)
    return True


def _may_see_claim(claim_id: int) -> bool:
    from challenges.reviews import can_view_claim
    from scoring.rules import ScoringSettings

    if not current_user.is_authenticated:
        return False
    claim = db.session.get(Claim, claim_id)
    return claim is not None and can_view_claim(db.session, current_user, claim,
                                                ScoringSettings.from_config(current_app.config))


def _send(object_key: str, photo: Photo) -> Response:
    try:
        data = storage().open(object_key)
    except MissingObject:
        log.warning("photo %s has a row but no stored object %s", photo.id, object_key)
        abort(404)
    response = Response(data, mimetype=content_type_of(data))
    private = photo.claim_id is not None or getattr(photo, "moderated", False)
    response.headers["Cache-Control"] = PRIVATE_CACHE if private else PUBLIC_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if private:
        response.headers["Vary"] = "Cookie"
    return response
