"""Saving photos and loading them for pages.

A photo is stored as two objects, the cleaned picture under its key and a JPEG thumbnail
under `<key>.thumb`, plus one `Photo` row. Files and row live or die together: a refused
upload stores nothing; a failed insert deletes the files at once; and the files of a
transaction that ends without committing (a rollback, or a session closed without a
commit) are deleted by the session hook installed from create_app (`install`).
"""
from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field as dataclass_field
from datetime import datetime
from typing import IO, Protocol

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, func, or_, select, update
from sqlalchemy.orm import Session

import aftercommit
from accounts.models import User
from childsafe.policy import refuse_public
from challenges.models import Claim, ClaimStatus, Photo, Problem, ProblemUpdate
from errors import Conflict, Forbidden, NotFound, ValidationFailed
from media.images import PhotoRejected, clean_image
from media.storage import PhotoStorage
from timeutil import utcnow

log = logging.getLogger(__name__)

PENDING_KEY = "fixquest.media.uncommitted"  # session.info: [(storage, object key), ...]
MAX_PHOTOS_PER_FORM = 3


def thumb_key(key: str) -> str:
    return f"{key}.thumb"


def _new_key() -> str:
    return secrets.token_hex(16)


# --- saving --------------------------------------------------------------------------------

def save_photo(session: Session, *, storage: PhotoStorage, actor: User, data: bytes,
               problem_id: int | None = None, update_id: int | None = None, claim_id: int | None = None,
               field: str = "photo", max_bytes: int, max_pixels: int, now: datetime | None = None) -> Photo:
    """Check, clean and store one photo for exactly one of a problem, an update or a claim.

    The caller has already decided that `actor` may add to that problem; for an update the
    actor must be its author and for a claim its claimant or a member of its team. Raises
    PhotoRejected (422, naming `field`) for a file that is not an acceptable photo."""
    _check_owner(session, actor=actor, problem_id=problem_id, update_id=update_id, claim_id=claim_id)
    clean = clean_image(data, max_bytes=max_bytes, max_pixels=max_pixels, field=field)
    return _store(session, storage=storage, actor=actor, clean=clean, problem_id=problem_id,
                  update_id=update_id, claim_id=claim_id, now=now)


def save_photos(session: Session, *, storage: PhotoStorage, actor: User, uploads: Sequence[bytes],
                problem_id: int | None = None, update_id: int | None = None, claim_id: int | None = None,
                field: str = "photos", max_bytes: int, max_pixels: int, max_count: int = MAX_PHOTOS_PER_FORM,
                room_checked: bool = False, now: datetime | None = None) -> list[Photo]:
    """The photos of one form, all or none: every upload is checked before any is stored,
    so one bad file refuses the lot and the message says which one. `room_checked`: the
    caller has counted the photos already held under a lock on the owner (`_add_to`)."""
    if len(uploads) > max_count:
        raise PhotoRejected(f"Attach at most {max_count} photos.", field=field)
    _check_owner(session, actor=actor, problem_id=problem_id, update_id=update_id, claim_id=claim_id)
    owner = (Photo.problem_id, problem_id) if problem_id is not None else (
        (Photo.update_id, update_id) if update_id is not None else (Photo.claim_id, claim_id))
    held = 0 if room_checked else photos_held(session, *owner)
    if held and held + len(uploads) > max_count:  # photos added earlier (the API) count towards the form's
        raise PhotoRejected(f"This has {held} photo{'s' if held != 1 else ''} already: attach at most "
                            f"{max(max_count - held, 0)} more.", field=field)
    cleaned = []
    for number, data in enumerate(uploads, start=1):
        try:
            cleaned.append(clean_image(data, max_bytes=max_bytes, max_pixels=max_pixels, field=field))
        except PhotoRejected as error:
            if len(uploads) == 1:
                raise
            raise PhotoRejected(f"Photo {number}: {error.message}", field=field) from None
    return [_store(session, storage=storage, actor=actor, clean=clean, problem_id=problem_id,
                   update_id=update_id, claim_id=claim_id, now=now) for clean in cleaned]


class Upload(Protocol):
    """What a form's file field holds (werkzeug's FileStorage)."""

    filename: str | None
    stream: IO[bytes]


def read_uploads(files: Iterable[Upload | None] | Upload | None, *, max_bytes: int) -> list[bytes]:
    """The bytes of the files a person actually chose (a FileField's or a
    MultipleFileField's data). A file input left empty still sends a part with no
    filename; those are skipped. At most max_bytes + 1 bytes are read from each, enough
    for clean_image to refuse an oversized one. Names and declared types are ignored: the
    content decides."""
    if files is None or hasattr(files, "filename"):  # one upload (iterating it reads lines)
        files = [files]
    chosen = []
    for upload in files:
        if upload is None or not getattr(upload, "filename", None):
            continue
        chosen.append(upload.stream.read(max_bytes + 1))
    return chosen


def _check_owner(session: Session, *, actor: User, problem_id: int | None, update_id: int | None,
                 claim_id: int | None) -> None:
    owners = [value for value in (problem_id, update_id, claim_id) if value is not None]
    if len(owners) != 1:
        raise ValueError("a photo belongs to exactly one of problem_id, update_id, claim_id")
    if claim_id is None:
        refuse_public(actor, "add a public photo")  # a child's photos are only ever evidence, held for review
    if update_id is not None:
        update = session.get(ProblemUpdate, update_id)
        if update is None:
            raise NotFound("update", update_id)
        if update.author_id != actor.id:
            raise Forbidden("add photos to this update", "only its author can.")
    if claim_id is not None:
        from challenges.services import can_act_for_claim

        claim = session.get(Claim, claim_id)
        if claim is None:
            raise NotFound("claim", claim_id)
        if not can_act_for_claim(session, actor, claim):
            raise Forbidden("add evidence to this claim", "it is not yours or your team's.")


def _store(session: Session, *, storage: PhotoStorage, actor: User, clean, problem_id: int | None,
           update_id: int | None, claim_id: int | None, now: datetime | None) -> Photo:
    key = _new_key()
    objects = [(key, clean.bytes_, clean.content_type), (thumb_key(key), clean.thumb_bytes, "image/jpeg")]
    pending = session.info.setdefault(PENDING_KEY, [])
    for name, data, content_type in objects:
        pending.append((storage, name))  # before writing: a failed write is cleaned up too
        try:
            storage.save(name, data, content_type)
        except Exception:
            _delete(storage, [name for name, _, _ in objects])
            raise
    photo = Photo(storage_key=key, problem_id=problem_id, update_id=update_id, claim_id=claim_id,
                  uploader_id=actor.id, width=clean.width, height=clean.height, created_at=now or utcnow())
    session.add(photo)
    try:
        session.flush()
    except Exception:
        _delete(storage, [name for name, _, _ in objects])
        raise
    return photo


def _delete(storage: PhotoStorage, keys: Iterable[str]) -> None:
    for key in keys:
        try:
            storage.delete(key)
        except Exception:  # never hide the error that brought us here
            log.exception("could not delete stored photo object %s", key)


# --- adding photos later (the API) ---------------------------------------------------------
#
# The pages take photos with the form that makes their object (a report, a comment, the
# evidence). These add them to an object that exists already, under the same rules and
# checks, and never to more than one form's worth: MAX_PHOTOS_PER_FORM in all.

class PhotoLimitReached(Conflict):
    code = "photo_limit_reached"

    def __init__(self, limit: int, held: int):
        super().__init__(f"At most {limit} photos each: this one has {held} already, so "
                         f"{max(limit - held, 0)} more would fit.")
        self.limit = limit
        self.held = held


class PhotosNotTaken(Conflict):
    """Photos offered where they do not belong now (a claim decided, a status change ...)."""

    code = "photos_not_taken"

    def __init__(self, reason: str):
        super().__init__(f"No photos can be added here: {reason}")
        self.reason = reason


def lock_owner(session: Session, model, row_id: int) -> None:
    """Lock the owner's row, so two requests at once cannot both find room for the last photo
    (or the same empty slot). PostgreSQL: SELECT ... FOR UPDATE. SQLite has no row locks and
    reads outside a write transaction, so a no-op UPDATE takes its one writer's lock first and
    the second request waits for the first to commit before it counts."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(model).where(model.id == row_id).values(id=model.id))
    else:
        session.execute(select(model.id).where(model.id == row_id).with_for_update())


def photos_held(session: Session, owner_column, owner_id: int) -> int:
    """How many photos a problem, update or claim has (`owner_column`: Photo.problem_id ...)."""
    return session.scalar(select(func.count()).select_from(Photo).where(owner_column == owner_id)) or 0


def _check_room(session: Session, owner_column, owner_id: int, adding: int, *, field: str) -> None:
    if not adding:
        raise ValidationFailed({field: ["Attach at least one photo (a JPEG, PNG, WebP or GIF file)."]})
    if adding > MAX_PHOTOS_PER_FORM:  # one request's worth first, as save_photos says it (422)
        raise PhotoRejected(f"Attach at most {MAX_PHOTOS_PER_FORM} photos.", field=field)
    held = photos_held(session, owner_column, owner_id)
    if held + adding > MAX_PHOTOS_PER_FORM:
        raise PhotoLimitReached(MAX_PHOTOS_PER_FORM, held)


_OWNER_COLUMNS = {Problem: "problem_id", ProblemUpdate: "update_id", Claim: "claim_id"}


def _add_to(session: Session, owner: Problem | ProblemUpdate | Claim, *, uploads: Sequence[bytes], field: str,
            locked: bool = False, **save) -> list[Photo]:
    """The last steps of adding photos to an existing problem, update or claim: lock it
    (unless the caller has, `locked`), check the room under the lock, then store them."""
    model = type(owner)
    column = _OWNER_COLUMNS[model]
    if not locked:
        lock_owner(session, model, owner.id)
    _check_room(session, getattr(Photo, column), owner.id, len(uploads), field=field)
    return save_photos(session, uploads=uploads, field=field, room_checked=True, **{column: owner.id}, **save)


def add_problem_photos(session: Session, *, storage: PhotoStorage, actor: User, problem: Problem,
                       uploads: Sequence[bytes], max_bytes: int, max_pixels: int, field: str = "photos",
                       now: datetime | None = None) -> list[Photo]:
    """The reporter adds photos to their report, as many as the report form takes in all."""
    refuse_public(actor, "add a public photo")
    if problem.reporter_id != actor.id:
        raise Forbidden("add photos to this problem", "only the person who reported it can.")
    if problem.merged_into_id is not None:
        raise PhotosNotTaken(f"this problem was merged into #{problem.merged_into_id}.")
    return _add_to(session, problem, uploads=uploads, field=field, storage=storage, actor=actor,
                   max_bytes=max_bytes, max_pixels=max_pixels, now=now)


def add_update_photos(session: Session, *, storage: PhotoStorage, actor: User, update: ProblemUpdate,
                      uploads: Sequence[bytes], max_bytes: int, max_pixels: int, field: str = "photos",
                      now: datetime | None = None) -> list[Photo]:
    """The author of a comment adds photos to it, as many as the comment form takes in all
    (a status change, a merge or a fix story takes none: the pages give them no photo field)."""
    refuse_public(actor, "add a public photo")
    if update.author_id != actor.id:
        raise Forbidden("add photos to this update", "only its author can.")
    if update.kind != "comment":
        raise PhotosNotTaken("photos go with comments.")
    return _add_to(session, update, uploads=uploads, field=field, storage=storage, actor=actor,
                   max_bytes=max_bytes, max_pixels=max_pixels, now=now)


def add_evidence_photos(session: Session, *, storage: PhotoStorage, actor: User, claim: Claim,
                        uploads: Sequence[bytes], max_bytes: int, max_pixels: int, field: str = "photos",
                        now: datetime | None = None) -> list[Photo]:
    """The claimant or their team adds evidence photos before the evidence is sent; they go
    with it at submission, as the evidence form's do (a child's are held for their teacher
    then). Once submitted, evidence is what reviewers and a child's teacher judge, so it
    no longer changes: a teacher approves exactly what they saw, and a reviewer what the
    others reviewed.

    A child may not add photos to someone else's claim: nothing would hold them (the hold is
    made at submission, and only for a child's submission or a child's claim), so a
    grown-up's submission would show them unseen."""
    from challenges.services import QuestClosed, can_act_for_claim

    if not can_act_for_claim(session, actor, claim):
        raise Forbidden("add evidence to this claim", "it is not yours or your team's.")
    lock_owner(session, Claim, claim.id)
    session.refresh(claim)  # its state as the lock found it: a submission cannot slip in between
    if claim.status != ClaimStatus.taken.value:
        raise PhotosNotTaken(f"this claim's evidence was {claim.status} already; photos go with it, "
                             "before it is sent.")
    now = now or utcnow()
    quest = claim.quest
    if quest.ends_at is not None and now >= quest.ends_at:
        raise QuestClosed(quest.id, quest.ends_at)
    if actor.is_child and not claim.user.is_child:
        raise PhotosNotTaken("a pupil's photos go with their own evidence.")
    return _add_to(session, claim, uploads=uploads, field=field, locked=True, storage=storage, actor=actor,
                   max_bytes=max_bytes, max_pixels=max_pixels, now=now)


# --- files follow the transaction ----------------------------------------------------------

def _after_commit(session) -> None:
    if aftercommit.outermost_commit(session):  # a SAVEPOINT's release decides nothing yet
        session.info.pop(PENDING_KEY, None)


def _after_transaction_end(session, transaction) -> None:
    """The outermost transaction ended without a commit: its photos' rows are gone, so
    their files go too."""
    if transaction.parent is not None:
        return
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    by_storage: dict[int, tuple[PhotoStorage, list[str]]] = {}
    for storage, key in pending:
        by_storage.setdefault(id(storage), (storage, []))[1].append(key)
    for storage, keys in by_storage.values():
        _delete(storage, keys)


def install() -> None:
    """Listen on every Flask-SQLAlchemy session (called once from create_app)."""
    if not event.contains(FlaskSession, "after_commit", _after_commit):
        event.listen(FlaskSession, "after_commit", _after_commit)
        event.listen(FlaskSession, "after_transaction_end", _after_transaction_end)


# --- reading for pages ---------------------------------------------------------------------

@dataclass
class PhotoGroups:
    """Photos grouped by what they belong to; missing ids give an empty list."""

    problems: dict[int, list[Photo]] = dataclass_field(default_factory=lambda: defaultdict(list))
    updates: dict[int, list[Photo]] = dataclass_field(default_factory=lambda: defaultdict(list))
    claims: dict[int, list[Photo]] = dataclass_field(default_factory=lambda: defaultdict(list))


def photos_for(session: Session, *, problem_ids: Iterable[int] = (), update_ids: Iterable[int] = (),
               claim_ids: Iterable[int] = ()) -> PhotoGroups:
    """Every photo of the given problems, updates and claims, oldest first, in one query.
    Pass only claim ids the viewer may see (challenges.reviews.can_view_claim)."""
    problem_ids, update_ids, claim_ids = set(problem_ids), set(update_ids), set(claim_ids)
    groups = PhotoGroups()
    conditions = []
    if problem_ids:
        conditions.append(Photo.problem_id.in_(problem_ids))
    if update_ids:
        conditions.append(Photo.update_id.in_(update_ids))
    if claim_ids:
        conditions.append(Photo.claim_id.in_(claim_ids))
    if not conditions:
        return groups
    for photo in session.scalars(select(Photo).where(or_(*conditions)).order_by(Photo.created_at, Photo.id)):
        if photo.problem_id in problem_ids:
            groups.problems[photo.problem_id].append(photo)
        if photo.update_id in update_ids:
            groups.updates[photo.update_id].append(photo)
        if photo.claim_id in claim_ids:
            groups.claims[photo.claim_id].append(photo)
    return groups
