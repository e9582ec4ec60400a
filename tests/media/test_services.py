"""save_photo / save_photos / photos_for: files and rows live and die together."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from challenges.models import Photo, ProblemUpdate
from errors import Forbidden, NotFound
from extensions import db
from tests.querycount import counting
from media import services
from media.images import PhotoRejected
from tests.factories import make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from tests.media import samples
from tests.media.samples import stored_files

LIMITS = dict(max_bytes=8 * 1024 * 1024, max_pixels=40_000_000)


def photo_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(Photo))


def save(storage, actor, data, **kw):
    return services.save_photo(db.session, storage=storage, actor=actor, data=data, **{**LIMITS, **kw})


def test_a_photo_is_stored_cleaned_with_a_thumbnail(ctx, storage):
    reporter = make_user()
    problem = make_problem(reporter)

    photo = save(storage, reporter, samples.photo_with_gps(size=(640, 480)), problem_id=problem.id)
    db.session.commit()

    assert (photo.problem_id, photo.uploader_id, photo.width, photo.height) == (problem.id, reporter.id, 640, 480)
    assert len(photo.storage_key) == 32 and photo.created_at is not None
    full = storage.open(photo.storage_key)
    thumb = storage.open(services.thumb_key(photo.storage_key))
    assert samples.read(full).size == (640, 480) and not samples.read(full).getexif()
    assert max(samples.read(thumb).size) == 320
    assert samples.SECRET_MAKE.encode() not in full
    assert len(stored_files(storage)) == 2


def test_a_refused_photo_stores_nothing(ctx, storage):
    reporter = make_user()
    problem = make_problem(reporter)
    for bad in (b"not a photo", samples.png_bomb(), samples.noisy_jpeg()[:5000], b""):
        with pytest.raises(PhotoRejected):
            save(storage, reporter, bad, problem_id=problem.id)
        db.session.rollback()
    assert stored_files(storage) == []
    assert photo_rows() == 0


def test_a_failed_insert_deletes_the_files(ctx, storage, monkeypatch):
    reporter = make_user()
    problem = make_problem(reporter)
    db.session.add(Photo(storage_key="f" * 32, problem_id=problem.id, uploader_id=reporter.id, width=1, height=1))
    db.session.commit()
    monkeypatch.setattr(services, "_new_key", lambda: "f" * 32)  # the unique key is taken

    with pytest.raises(IntegrityError):
        save(storage, reporter, samples.photo_with_gps(), problem_id=problem.id)

    assert stored_files(storage) == []
    db.session.rollback()
    assert photo_rows() == 1


def test_a_rollback_after_saving_deletes_the_files(ctx, storage):
    reporter = make_user()
    problem = make_problem(reporter)
    save(storage, reporter, samples.photo_with_gps(), problem_id=problem.id)
    assert len(stored_files(storage)) == 2  # stored before the commit ...

    db.session.rollback()  # ... e.g. a later step of the form failed

    assert stored_files(storage) == []
    assert photo_rows() == 0


def test_a_session_closed_without_commit_deletes_the_files(app, storage):
    with app.app_context():
        reporter = make_user()
        problem = make_problem(reporter)
        save(storage, reporter, samples.photo_with_gps(), problem_id=problem.id)
        db.session.remove()  # the request ended without a commit
    assert stored_files(storage) == []


def test_committed_files_survive_later_rollbacks(ctx, storage):
    reporter = make_user()
    problem = make_problem(reporter)
    key = save(storage, reporter, samples.photo_with_gps(), problem_id=problem.id).storage_key
    db.session.commit()
    db.session.rollback()
    db.session.remove()
    assert storage.exists(key)
    assert storage.exists(services.thumb_key(key))


def test_one_bad_photo_of_three_refuses_all_and_says_which(ctx, storage):
    reporter = make_user()
    problem = make_problem(reporter)
    uploads = [samples.photo_with_gps(), b"%PDF-1.7 not a photo", samples.png_with_text()]

    with pytest.raises(PhotoRejected) as caught:
        services.save_photos(db.session, storage=storage, actor=reporter, uploads=uploads,
                             problem_id=problem.id, **LIMITS)

    assert caught.value.message.startswith("Photo 2: That file is not a photo")
    assert caught.value.fields == {"photos": [caught.value.message]}
    assert stored_files(storage) == []


def test_three_photos_are_saved_together_and_a_fourth_is_refused(ctx, storage):
    reporter = make_user()
    problem = make_problem(reporter)
    photos = services.save_photos(db.session, storage=storage, actor=reporter, problem_id=problem.id,
                                  uploads=[samples.photo_with_gps()] * 3, **LIMITS)
    db.session.commit()
    assert len({photo.storage_key for photo in photos}) == 3 and len(stored_files(storage)) == 6
    with pytest.raises(PhotoRejected, match="at most 3"):
        services.save_photos(db.session, storage=storage, actor=reporter, problem_id=problem.id,
                             uploads=[samples.photo_with_gps()] * 4, **LIMITS)


def test_a_png_named_jpg_is_stored_as_an_image_and_a_text_named_jpg_is_refused(ctx, storage):
    reporter = make_user()
    problem = make_problem(reporter)
    png = FileStorage(io.BytesIO(samples.png_with_text(alpha=True)), filename="photo.jpg", content_type="image/jpeg")
    text = FileStorage(io.BytesIO(b"just words, honest"), filename="photo.jpg", content_type="image/jpeg")
    left_empty = FileStorage(io.BytesIO(b""), filename="", content_type="application/octet-stream")

    (data,) = services.read_uploads([png, left_empty, None], max_bytes=LIMITS["max_bytes"])
    photo = save(storage, reporter, data, problem_id=problem.id)
    assert samples.read(storage.open(photo.storage_key)).format == "PNG"  # it has transparency

    (data,) = services.read_uploads([text], max_bytes=LIMITS["max_bytes"])
    with pytest.raises(PhotoRejected, match="not a photo"):
        save(storage, reporter, data, problem_id=problem.id)


def test_reading_an_upload_stops_just_past_the_limit():
    upload = FileStorage(io.BytesIO(b"x" * 5000), filename="big.jpg")
    assert services.read_uploads([upload], max_bytes=100) == [b"x" * 101]


def test_a_single_file_fields_data_is_read_whole():
    upload = FileStorage(io.BytesIO(b"line one\nline two\n"), filename="a.png")
    assert services.read_uploads(upload, max_bytes=100) == [b"line one\nline two\n"]
    assert services.read_uploads(None, max_bytes=100) == []


def test_a_photo_belongs_to_exactly_one_thing(ctx, storage):
    reporter = make_user()
    problem = make_problem(reporter)
    with pytest.raises(ValueError):
        save(storage, reporter, samples.photo_with_gps())
    update_id = db.session.scalar(select(ProblemUpdate.id).where(ProblemUpdate.problem_id == problem.id))
    with pytest.raises(ValueError):
        save(storage, reporter, samples.photo_with_gps(), problem_id=problem.id, update_id=update_id)


def test_only_the_author_adds_photos_to_an_update(ctx, storage):
    reporter, stranger = make_user(), make_user()
    problem = make_problem(reporter)
    update_id = db.session.scalar(select(ProblemUpdate.id).where(ProblemUpdate.problem_id == problem.id))
    with pytest.raises(Forbidden):
        save(storage, stranger, samples.photo_with_gps(), update_id=update_id)
    with pytest.raises(NotFound):
        save(storage, reporter, samples.photo_with_gps(), update_id=update_id + 1000)
    photo = save(storage, reporter, samples.photo_with_gps(), update_id=update_id)
    assert photo.update_id == update_id
    assert len(stored_files(storage)) == 2


def test_evidence_photos_come_from_the_claimant_or_their_team(ctx, storage):
    organiser, player, teammate, stranger = make_organiser(), make_user(), make_user(), make_user()
    team = make_team(player, members=(teammate,))
    claim = make_claim(player, make_quest(organiser, mode="team"), team=team)
    data = samples.photo_with_gps()

    for outsider in (stranger, organiser):
        with pytest.raises(Forbidden):
            save(storage, outsider, data, claim_id=claim.id)
    assert stored_files(storage) == []
    assert save(storage, player, data, claim_id=claim.id).claim_id == claim.id
    assert save(storage, teammate, data, claim_id=claim.id).uploader_id == teammate.id


def test_photos_for_groups_a_page_of_photos_in_one_query(ctx, storage):
    organiser, reporter = make_organiser(), make_user()
    problems = [make_problem(reporter) for _ in range(3)]
    claim = make_claim(reporter, make_quest(organiser))
    data = samples.encode(samples.two_tone((20, 10)), "PNG")
    for problem in problems[:2]:
        for _ in range(2):
            save(storage, reporter, data, problem_id=problem.id)
    update_id = db.session.scalar(select(ProblemUpdate.id).where(ProblemUpdate.problem_id == problems[0].id))
    save(storage, reporter, data, update_id=update_id)
    claim_photo_id = save(storage, reporter, data, claim_id=claim.id).id
    db.session.commit()
    problem_ids, claim_id = [p.id for p in problems], claim.id
    db.session.expunge_all()

    with counting(db.engine) as statements:
        groups = services.photos_for(db.session, problem_ids=problem_ids, update_ids=[update_id])
    assert len(statements) == 1
    assert [len(groups.problems[i]) for i in problem_ids] == [2, 2, 0]
    assert len(groups.updates[update_id]) == 1
    assert claim_id not in groups.claims  # only the claims asked for

    groups = services.photos_for(db.session, claim_ids=[claim_id])
    assert [photo.id for photo in groups.claims[claim_id]] == [claim_photo_id]
    with counting(db.engine) as statements:
        assert not services.photos_for(db.session).problems
    assert statements == []
