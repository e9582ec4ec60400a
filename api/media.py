"""Photos in the API: adding them to a report, a comment, a claim's evidence or a fix story
that exists already (the pages take them with the form that makes it).

The only routes of the API with a multipart/form-data body: each photo is a file part named
`photos` (or `before_photo` / `after_photo` for a story); any other body is a 415. Every
photo goes through media.services, as the forms' do: judged by its content (not its name
or declared type), re-encoded without metadata, within PHOTO_MAX_BYTES and
PHOTO_MAX_PIXELS, at most MAX_PHOTOS_PER_FORM per object, all or none (one bad file: a 422
naming the field, nothing stored). Evidence photos are added before the evidence is sent
and go with it (a child's are held for their teacher at submission); submitted evidence
does not change (media.services.add_evidence_photos).
"""
from __future__ import annotations

from flask import url_for

from accounts.models import User
from api import bp
from api.auth import token_required
from api.campaigns import story_json
from api.parsing import MAX_ID, uploaded_files
from api.routes import created, visible_claim
from api.serializers import photo_json
from campaigns import stories
from challenges import services as challenges
from challenges.models import ProblemUpdate
from errors import NotFound
from extensions import db
from media import services as media
from media.images import PhotoRejected
from media.views import upload_settings
from moderation.visibility import problem_visible, update_visible

ID = f"int(max={MAX_ID})"


def _photos(field: str = "photos") -> list[bytes]:
    return uploaded_files(field, max_bytes=upload_settings()["max_bytes"])[field]


def _added(photos, location: str):
    return created({"photos": [photo_json(photo) for photo in photos]}, location)


@bp.post(f"/problems/<{ID}:problem_id>/photos")
@token_required
def add_problem_photos(actor: User, problem_id: int):
    """The reporter adds photos to their report (at most MAX_PHOTOS_PER_FORM in all)."""
    uploads = _photos()
    problem = challenges.get_problem(db.session, problem_id)
    if not problem_visible(actor, problem):
        raise NotFound("problem", problem_id)  # hidden by a moderator: as on the page
    photos = media.add_problem_photos(db.session, actor=actor, problem=problem, uploads=uploads, **upload_settings())
    response = _added(photos, url_for("api.problem", problem_id=problem.id))
    db.session.commit()
    return response


@bp.post(f"/problems/<{ID}:problem_id>/updates/<{ID}:update_id>/photos")
@token_required
def add_update_photos(actor: User, problem_id: int, update_id: int):
    """A comment's author adds photos to it (at most MAX_PHOTOS_PER_FORM in all)."""
    uploads = _photos()
    entry = db.session.get(ProblemUpdate, update_id)
    if entry is None or entry.problem_id != problem_id or not update_visible(actor, entry):
        raise NotFound("update", update_id)
    photos = media.add_update_photos(db.session, actor=actor, update=entry, uploads=uploads, **upload_settings())
    response = _added(photos, url_for("api.problem_updates", problem_id=problem_id))
    db.session.commit()
    return response


@bp.post(f"/claims/<{ID}:claim_id>/photos")
@token_required
def add_claim_photos(actor: User, claim_id: int):
    """The claimant or their team adds evidence photos before the evidence is sent."""
    uploads = _photos()
    claim = visible_claim(actor, claim_id)
    photos = media.add_evidence_photos(db.session, actor=actor, claim=claim, uploads=uploads, **upload_settings())
    response = _added(photos, url_for("api.claim", claim_id=claim.id))
    db.session.commit()
    return response


@bp.post(f"/problems/<{ID}:problem_id>/fix-story/photos")
@token_required
def add_fix_story_photos(actor: User, problem_id: int):
    """The story's author adds its before or after photo, each once."""
    settings = upload_settings()
    files = uploaded_files("before_photo", "after_photo", max_bytes=settings["max_bytes"])
    problem = challenges.get_problem(db.session, problem_id)
    story = stories.story_for(db.session, problem_id)
    if story is None or not problem_visible(actor, problem):
        raise NotFound("fix story for problem", problem_id)
    story = stories.add_story_photos(db.session, actor=actor, story=story,
                                     before=_one(files, "before_photo"), after=_one(files, "after_photo"),
                                     **settings)
    body = story_json(story)
    db.session.commit()
    return created(body, url_for("api.fix_story", problem_id=problem.id))


def _one(files: dict[str, list[bytes]], field: str) -> bytes | None:
    """A story's slot takes one photo; more in one field is a 422 naming it."""
    chosen = files[field]
    if len(chosen) > 1:
        raise PhotoRejected("Attach one photo here.", field=field)
    return chosen[0] if chosen else None
