"""Photos through the real forms: the report, an organiser's update and claim evidence."""
from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from challenges.models import Photo, Problem
from extensions import db
from tests.factories import make_claim, make_organiser, make_problem, make_quest, make_user
from tests.media.samples import photo_with_gps

REPORT = {"title": "Fly-tipped sofa on Welsh Back", "description": "Blocking the path.", "category": "other",
          "lat": "51.4502", "lon": "-2.5921", "address": "Welsh Back", "checked_nearby": "1"}


def upload(data: bytes, name: str = "photo.jpg"):
    return (io.BytesIO(data), name)


def test_report_with_a_photo_stores_it_without_gps_and_shows_it(app, client, login):
    login(make_user())
    response = client.post("/problems/new", data={**REPORT, "photos": [upload(photo_with_gps())]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    problem = db.session.scalar(select(Problem))
    photo = db.session.scalar(select(Photo).where(Photo.problem_id == problem.id))
    page = client.get(f"/problems/{problem.id}").get_data(as_text=True)
    assert f"/photos/{photo.storage_key}/thumb.jpg" in page
    served = client.get(f"/photos/{photo.storage_key}.jpg")
    assert served.status_code == 200
    assert not Image.open(io.BytesIO(served.data)).getexif()  # no EXIF at all, so no GPS


def test_a_text_file_posing_as_a_photo_is_refused_beside_the_field_and_nothing_is_saved(client, login):
    login(make_user())
    response = client.post("/problems/new", data={**REPORT, "photos": [upload(b"not an image at all")]},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'id="photos-error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Problem)) == 0
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_evidence_photos_are_private_to_the_claim(client, login):
    player = make_user()
    claim = make_claim(player, make_quest(make_organiser()))
    login(player)
    response = client.post(f"/claims/{claim.id}/submit", data={"evidence": "Cleared it", "photos": [upload(photo_with_gps())]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    photo = db.session.scalar(select(Photo).where(Photo.claim_id == claim.id))
    assert f"/photos/{photo.storage_key}/thumb.jpg" in client.get(f"/claims/{claim.id}").get_data(as_text=True)
    login(make_user())
    assert client.get(f"/photos/{photo.storage_key}.jpg").status_code == 404


def test_organiser_update_with_a_photo_appears_in_the_history(client, login):
    problem = make_problem(make_user())
    login(make_organiser())
    client.post(f"/problems/{problem.id}/comments", data={"body": "Cleared today.", "photos": [upload(photo_with_gps())]},
                content_type="multipart/form-data")
    photo = db.session.scalar(select(Photo).where(Photo.update_id.is_not(None)))
    assert f"/photos/{photo.storage_key}/thumb.jpg" in client.get(f"/problems/{problem.id}").get_data(as_text=True)
