"""Serving photos: the right type and caching, and evidence only for those who may see it."""
from __future__ import annotations

import pytest

from extensions import db
from media import services
from tests.factories import make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from tests.media import samples

LIMITS = dict(max_bytes=8 * 1024 * 1024, max_pixels=40_000_000)


def saved(storage, actor, data=None, **owner) -> str:
    photo = services.save_photo(db.session, storage=storage, actor=actor, data=data or samples.photo_with_gps(),
                                **owner, **LIMITS)
    db.session.commit()
    return photo.storage_key


def test_a_problem_photo_and_its_thumbnail_are_public(client, storage):
    reporter = make_user()
    key = saved(storage, reporter, problem_id=make_problem(reporter).id)

    full = client.get(f"/photos/{key}.jpg")
    thumb = client.get(f"/photos/{key}/thumb.jpg")

    for response in (full, thumb):
        assert response.status_code == 200
        assert response.mimetype == "image/jpeg"
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Set-Cookie" not in response.headers
    assert full.data == storage.open(key)
    assert not samples.read(full.data).getexif()
    assert len(thumb.data) < len(full.data)


def test_a_transparent_photo_is_served_as_png(client, storage):
    reporter = make_user()
    key = saved(storage, reporter, samples.png_with_text(alpha=True), problem_id=make_problem(reporter).id)
    assert client.get(f"/photos/{key}.jpg").mimetype == "image/png"
    assert client.get(f"/photos/{key}/thumb.jpg").mimetype == "image/jpeg"


def test_an_update_photo_is_public(client, storage):
    from sqlalchemy import select

    from challenges.models import ProblemUpdate

    reporter = make_user()
    problem = make_problem(reporter)
    update_id = db.session.scalar(select(ProblemUpdate.id).where(ProblemUpdate.problem_id == problem.id))
    key = saved(storage, reporter, update_id=update_id)
    assert client.get(f"/photos/{key}/thumb.jpg").status_code == 200


@pytest.mark.parametrize("path", [
    "/photos/" + "0" * 32 + ".jpg",  # well formed, unknown
    "/photos/" + "0" * 32 + "/thumb.jpg",
    "/photos/..%2F..%2Fconfig.py.jpg",
    "/photos/../../etc/passwd.jpg",
    "/photos/%2e%2e/thumb.jpg",
    "/photos/ABC.jpg",
    "/photos/x.thumb.jpg",  # an object name is not a photo key
])
def test_unknown_and_malformed_keys_are_not_found(client, storage, path):
    assert client.get(path).status_code == 404


def test_a_thumbnail_key_is_not_a_photo(client, storage):
    reporter = make_user()
    key = saved(storage, reporter, problem_id=make_problem(reporter).id)
    assert client.get(f"/photos/{services.thumb_key(key)}.jpg").status_code == 404


def test_a_row_whose_file_is_gone_is_not_found(client, storage):
    reporter = make_user()
    key = saved(storage, reporter, problem_id=make_problem(reporter).id)
    storage.delete(key)
    assert client.get(f"/photos/{key}.jpg").status_code == 404


def test_evidence_photos_are_shown_only_to_the_team_and_organisers(client, login, storage):
    organiser, player, teammate, stranger = make_organiser(), make_user(), make_user(), make_user()
    team = make_team(player, members=(teammate,))
    claim = make_claim(player, make_quest(organiser, mode="team"), team=team)
    key = saved(storage, player, claim_id=claim.id)
    urls = (f"/photos/{key}.jpg", f"/photos/{key}/thumb.jpg")

    for url in urls:  # anonymous: the same 404 as a key that does not exist
        assert client.get(url).status_code == 404
    login(stranger)
    for url in urls:
        assert client.get(url).status_code == 404

    for viewer in (player, teammate, organiser):
        login(viewer)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (viewer.display_name, url)
            assert response.headers["Cache-Control"] == "private, no-store"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
