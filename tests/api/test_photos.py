"""Photos through the API (multipart/form-data): a report's, a comment's, a claim's evidence
and a fix story's, with every refusal; and a child's evidence photos held for the teacher
exactly as the evidence form's are."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from campaigns import stories
from challenges import reviews, tracker
from challenges.models import Photo
from childsafe.models import ModerationHold
from extensions import db
from media.services import MAX_PHOTOS_PER_FORM
from media.views import upload_settings
from scoring.rules import ScoringSettings
from tests.api import auth, error_of
from tests.factories import make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from tests.media.samples import SECRET_MAKE, noisy_jpeg, photo_with_gps, png_bomb, read


def jpeg(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def files(*contents: bytes, field: str = "photos") -> dict:
    return {field: [(io.BytesIO(data), f"photo{n}.jpg") for n, data in enumerate(contents)]}


def post(client, url: str, headers: dict, data: dict):
    return client.post(url, data=data, headers=headers, content_type="multipart/form-data")


def photo_count(**owner) -> int:
    (column, value), = owner.items()
    return db.session.scalar(select(func.count()).select_from(Photo).where(getattr(Photo, column) == value))


def hold_state(claim_id: int) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(ModerationHold.state).where(ModerationHold.claim_id == claim_id))


# --- a report's photos -----------------------------------------------------------------------

def test_the_reporter_adds_photos_stored_without_metadata_and_shown_publicly(app, client):
    reporter = make_user()
    problem = make_problem(reporter)
    response = post(client, f"/api/v1/problems/{problem.id}/photos", auth(reporter), files(photo_with_gps(), jpeg()))
    assert response.status_code == 201
    photos = response.get_json()["photos"]
    assert len(photos) == 2 and response.headers["Location"].endswith(f"/api/v1/problems/{problem.id}")
    served = client.get(photos[0]["url"])
    assert served.status_code == 200 and "public" in served.headers["Cache-Control"]
    assert SECRET_MAKE.encode() not in served.data and not read(served.data).getexif()  # no GPS, no camera
    assert client.get(photos[0]["thumbnail"]).status_code == 200
    assert photo_count(problem_id=problem.id) == 2


def test_a_report_takes_as_many_photos_as_the_form_in_all(client):
    reporter = make_user()
    problem = make_problem(reporter)
    headers = auth(reporter)
    assert post(client, f"/api/v1/problems/{problem.id}/photos", headers, files(jpeg(), jpeg())).status_code == 201
    response = post(client, f"/api/v1/problems/{problem.id}/photos", headers, files(jpeg(), jpeg()))
    assert response.status_code == 409 and error_of(response)["code"] == "photo_limit_reached"
    assert "1 more" in error_of(response)["message"]
    assert post(client, f"/api/v1/problems/{problem.id}/photos", headers, files(jpeg())).status_code == 201
    assert post(client, f"/api/v1/problems/{problem.id}/photos", headers, files(jpeg())).status_code == 409
    assert photo_count(problem_id=problem.id) == MAX_PHOTOS_PER_FORM


def test_more_photos_than_a_form_takes_in_one_request_is_422_and_stores_none(client):
    reporter = make_user()
    problem = make_problem(reporter)
    response = post(client, f"/api/v1/problems/{problem.id}/photos", auth(reporter),
                    files(*[jpeg()] * (MAX_PHOTOS_PER_FORM + 1)))
    assert response.status_code == 422 and list(error_of(response)["fields"]) == ["photos"]
    assert photo_count(problem_id=problem.id) == 0


@pytest.mark.parametrize("name", ["text renamed .jpg", "truncated JPEG", "too many pixels"])
def test_a_file_that_is_not_an_acceptable_photo_is_422_naming_the_field_and_nothing_is_kept(app, client, name):
    bad = {"text renamed .jpg": b"Dear council, this is not a picture.",
           "truncated JPEG": noisy_jpeg()[:3000],
           "too many pixels": png_bomb()}[name]
    reporter = make_user()
    problem = make_problem(reporter)
    storage = app.extensions["fixquest.storage"]
    before = len(getattr(storage, "_objects", {}))
    response = post(client, f"/api/v1/problems/{problem.id}/photos", auth(reporter), files(jpeg(), bad))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "photo_rejected" and list(error["fields"]) == ["photos"]
    assert "Photo 2" in error["fields"]["photos"][0]  # which one, of two
    assert photo_count(problem_id=problem.id) == 0  # all or none
    assert len(getattr(storage, "_objects", {})) == before


def test_a_photo_over_photo_max_bytes_is_422(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 2000)
    reporter = make_user()
    problem = make_problem(reporter)
    response = post(client, f"/api/v1/problems/{problem.id}/photos", auth(reporter), files(noisy_jpeg()))
    assert response.status_code == 422 and "photos" in error_of(response)["fields"]


def test_a_body_over_the_request_limit_is_413(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 5000)
    reporter = make_user()
    problem = make_problem(reporter)
    response = post(client, f"/api/v1/problems/{problem.id}/photos", auth(reporter), files(noisy_jpeg()))
    assert response.status_code == 413 and error_of(response)["code"] == "request_entity_too_large"
    assert photo_count(problem_id=problem.id) == 0


def test_a_body_that_is_not_multipart_is_415_on_every_photo_route(client):
    reporter = make_user()
    problem = make_problem(reporter)
    headers = auth(reporter)
    for url in (f"/api/v1/problems/{problem.id}/photos", f"/api/v1/problems/{problem.id}/updates/1/photos",
                "/api/v1/claims/1/photos", f"/api/v1/problems/{problem.id}/fix-story/photos"):
        for kwargs in ({"json": {"photos": ["x"]}}, {"data": "photos=x", "content_type": "text/plain"}, {}):
            response = client.post(url, headers=headers, **kwargs)
            assert response.status_code == 415, (url, kwargs)
            assert error_of(response)["code"] == "unsupported_media_type"


def test_no_file_or_text_instead_of_a_file_is_422_naming_the_field(client):
    reporter = make_user()
    problem = make_problem(reporter)
    headers = auth(reporter)
    empty = post(client, f"/api/v1/problems/{problem.id}/photos", headers, {"note": "no photo"})
    assert empty.status_code == 422 and list(error_of(empty)["fields"]) == ["photos"]
    as_text = post(client, f"/api/v1/problems/{problem.id}/photos", headers, {"photos": "not a file"})
    assert as_text.status_code == 422 and list(error_of(as_text)["fields"]) == ["photos"]


def test_only_the_reporter_adds_photos_to_a_report(client):
    problem = make_problem(make_user())
    url = f"/api/v1/problems/{problem.id}/photos"
    someone = post(client, url, auth(make_user()), files(jpeg()))
    assert someone.status_code == 403 and error_of(someone)["code"] == "forbidden"
    assert post(client, url, auth(make_organiser()), files(jpeg())).status_code == 403
    assert post(client, url, {}, files(jpeg())).status_code == 401
    assert post(client, "/api/v1/problems/999999/photos", auth(make_user()), files(jpeg())).status_code == 404
    assert photo_count(problem_id=problem.id) == 0


def test_a_read_token_cannot_upload(client):
    from accounts.services import issue_token

    reporter = make_user()
    problem = make_problem(reporter)
    token = issue_token(db.session, user=reporter, name="read", scope="read")
    db.session.commit()
    response = post(client, f"/api/v1/problems/{problem.id}/photos", {"Authorization": f"Bearer {token}"},
                    files(jpeg()))
    assert response.status_code == 403 and error_of(response)["code"] == "insufficient_scope"


def test_a_merged_report_takes_no_more_photos(client):
    reporter = make_user()
    duplicate, survivor = make_problem(reporter), make_problem(make_user())
    tracker.merge(db.session, actor=make_organiser(), duplicate=duplicate, into=survivor)
    db.session.commit()
    response = post(client, f"/api/v1/problems/{duplicate.id}/photos", auth(reporter), files(jpeg()))
    assert response.status_code == 409 and error_of(response)["code"] == "photos_not_taken"


# --- a comment's photos ----------------------------------------------------------------------

def test_a_comments_author_adds_photos_that_appear_in_the_history(client):
    organiser = make_organiser()
    problem = make_problem(make_user())
    entry = tracker.comment(db.session, actor=organiser, problem=problem, body="Crew booked for Monday.")
    db.session.commit()
    url = f"/api/v1/problems/{problem.id}/updates/{entry.id}/photos"
    response = post(client, url, auth(organiser), files(jpeg()))
    assert response.status_code == 201
    [photo] = response.get_json()["photos"]
    history = client.get(f"/api/v1/problems/{problem.id}/updates").get_json()["items"]
    assert [e["photos"] for e in history if e["id"] == entry.id] == [[photo]]


def test_only_a_comments_author_adds_photos_and_only_to_comments(client):
    organiser = make_organiser()
    problem, other = make_problem(make_user()), make_problem(make_user())
    entry = tracker.comment(db.session, actor=organiser, problem=problem, body="On it.")
    from challenges import services as challenges

    status = challenges.change_status(db.session, actor=organiser, problem=problem, status="in_progress", note=None)
    db.session.commit()
    url = f"/api/v1/problems/{problem.id}/updates/{entry.id}/photos"
    assert post(client, url, auth(make_organiser()), files(jpeg())).status_code == 403
    wrong_problem = post(client, f"/api/v1/problems/{other.id}/updates/{entry.id}/photos", auth(organiser),
                         files(jpeg()))
    assert wrong_problem.status_code == 404
    assert post(client, f"/api/v1/problems/{problem.id}/updates/999999/photos", auth(organiser),
                files(jpeg())).status_code == 404
    not_comment = post(client, f"/api/v1/problems/{problem.id}/updates/{status.id}/photos", auth(organiser),
                       files(jpeg()))
    assert not_comment.status_code == 409 and error_of(not_comment)["code"] == "photos_not_taken"
    assert photo_count(update_id=entry.id) == 0 and photo_count(update_id=status.id) == 0


# --- evidence photos -------------------------------------------------------------------------

def class_with_a_tokened_child():
    """A teacher's class of one child whose account holds an API token. Children are issued
    none (they log in with their class cards); this one's was made before the account became
    a child's, so that the API's own child rules are what is tested."""
    child = make_user(name="Ottoline Pemberton-Quayle")
    headers = auth(child)
    child.is_child = True
    child.hidden_from_boards = True
    db.session.commit()
    teacher = make_organiser(name="Ms Teacher")
    team = make_team(teacher, members=(child,))
    return teacher, team, child, headers


def test_the_claimant_adds_evidence_photos_private_to_the_claim(client, login):
    player = make_user()
    claim = make_claim(player, make_quest(make_organiser()))
    response = post(client, f"/api/v1/claims/{claim.id}/photos", auth(player), files(jpeg()))
    assert response.status_code == 201
    [photo] = response.get_json()["photos"]
    served = client.get(photo["url"])  # no session: a stranger
    assert served.status_code == 404
    login(player)
    served = client.get(photo["url"])
    assert served.status_code == 200 and served.headers["Cache-Control"] == "private, no-store"


def test_a_team_member_adds_evidence_photos_and_strangers_cannot_even_see_the_claim(client):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    claim = make_claim(captain, make_quest(make_organiser(), mode="team"), team=team)
    assert post(client, f"/api/v1/claims/{claim.id}/photos", auth(member), files(jpeg())).status_code == 201
    stranger = post(client, f"/api/v1/claims/{claim.id}/photos", auth(make_user()), files(jpeg()))
    assert stranger.status_code == 404  # claims are private: ids reveal nothing
    assert post(client, "/api/v1/claims/999999/photos", auth(member), files(jpeg())).status_code == 404
    assert photo_count(claim_id=claim.id) == 1


def test_an_organiser_who_may_see_a_claim_still_may_not_add_to_its_evidence(client):
    claim = make_claim(make_user(), make_quest(make_organiser()), submit=True)
    response = post(client, f"/api/v1/claims/{claim.id}/photos", auth(make_organiser()), files(jpeg()))
    assert response.status_code == 403 and photo_count(claim_id=claim.id) == 0


def test_a_decided_claim_takes_no_more_photos(client):
    organiser, player = make_organiser(), make_user()
    claim = make_claim(player, make_quest(organiser), submit=True)
    reviews.review_claim(db.session, actor=organiser, claim=claim, decision="approve", reason=None,
                         settings=ScoringSettings.from_config(client.application.config))
    db.session.commit()
    response = post(client, f"/api/v1/claims/{claim.id}/photos", auth(player), files(jpeg()))
    assert response.status_code == 409 and error_of(response)["code"] == "photos_not_taken"


def test_evidence_takes_as_many_photos_as_the_form_in_all(client):
    player = make_user()
    claim = make_claim(player, make_quest(make_organiser()))
    headers = auth(player)
    assert post(client, f"/api/v1/claims/{claim.id}/photos", headers, files(jpeg(), jpeg(), jpeg())).status_code == 201
    assert post(client, f"/api/v1/claims/{claim.id}/photos", headers, files(jpeg())).status_code == 409


def test_photos_added_before_submission_are_held_with_a_childs_evidence(client):
    teacher, team, child, child_headers = class_with_a_tokened_child()
    claim = make_claim(child, make_quest(make_organiser()))
    [photo] = post(client, f"/api/v1/claims/{claim.id}/photos", child_headers, files(jpeg())).get_json()["photos"]
    outsider = auth(make_organiser())
    assert client.get(f"/api/v1/claims/{claim.id}", headers=outsider).status_code == 404  # before submission too
    assert client.post(f"/api/v1/claims/{claim.id}/submit", json={"evidence": "Swept the path."},
                       headers=child_headers).status_code == 200
    assert hold_state(claim.id) == "pending"
    assert client.get(f"/api/v1/claims/{claim.id}", headers=outsider).status_code == 404
    waiting = client.get("/api/v1/holds", headers=auth(teacher)).get_json()["items"]
    assert [w["photos"] for w in waiting] == [[photo]]  # the teacher sees the photo waiting


@pytest.mark.parametrize("who", ["child", "teacher"])
def test_submitted_evidence_takes_no_more_photos_so_the_teacher_approves_what_they_saw(client, login, who):
    """Found in review: photos added to evidence waiting for (or released by) the teacher
    would have been approved, or shown, unseen."""
    teacher, team, child, child_headers = class_with_a_tokened_child()
    claim = make_claim(child, make_quest(make_organiser(), mode="team"), team=team, submit=True)
    assert hold_state(claim.id) == "pending"
    adder = child_headers if who == "child" else auth(teacher)
    response = post(client, f"/api/v1/claims/{claim.id}/photos", adder, files(jpeg()))
    assert response.status_code == 409 and error_of(response)["code"] == "photos_not_taken"
    hold_id = db.session.scalar(select(ModerationHold.id).where(ModerationHold.claim_id == claim.id))
    assert client.post(f"/api/v1/holds/{hold_id}/approve", headers=auth(teacher)).status_code == 200
    response = post(client, f"/api/v1/claims/{claim.id}/photos", adder, files(jpeg()))
    assert response.status_code == 409 and photo_count(claim_id=claim.id) == 0
    assert hold_state(claim.id) == "approved"


def test_a_grown_ups_submitted_evidence_takes_no_more_photos_either(client):
    player = make_user()
    claim = make_claim(player, make_quest(make_organiser()), submit=True)
    response = post(client, f"/api/v1/claims/{claim.id}/photos", auth(player), files(jpeg()))
    assert response.status_code == 409 and photo_count(claim_id=claim.id) == 0  # reviewers judge one version


def test_the_evidence_form_counts_photos_added_through_the_api(client, login):
    player = make_user()
    claim = make_claim(player, make_quest(make_organiser()))
    assert post(client, f"/api/v1/claims/{claim.id}/photos", auth(player), files(jpeg(), jpeg())).status_code == 201
    login(player)
    response = client.post(f"/claims/{claim.id}/submit", data={"evidence": "Swept the path.",
                                                                **files(jpeg(), jpeg())},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "attach at most 1 more" in response.get_data(as_text=True)
    assert photo_count(claim_id=claim.id) == 2


def test_a_child_adds_no_photo_to_a_grown_ups_claim_before_it_is_submitted(client):
    teacher, team, child, child_headers = class_with_a_tokened_child()
    claim = make_claim(teacher, make_quest(make_organiser(), mode="team"), team=team)
    response = post(client, f"/api/v1/claims/{claim.id}/photos", child_headers, files(jpeg()))
    assert response.status_code == 409 and error_of(response)["code"] == "photos_not_taken"
    assert photo_count(claim_id=claim.id) == 0


# --- fix story photos ------------------------------------------------------------------------

def story_by(app, author, organiser=None):
    organiser = organiser or make_organiser()
    problem = make_problem(make_user())
    quest = make_quest(organiser, problem_id=problem.id)
    claim = make_claim(author, quest, submit=True)
    reviews.review_claim(db.session, actor=organiser, claim=claim, decision="approve", reason=None,
                         settings=ScoringSettings.from_config(app.config))
    db.session.commit()
    with app.test_request_context():
        story = stories.write_story(db.session, actor=author, problem=problem, story="Filled it in.", before=None,
                                    after=None, **upload_settings())
    db.session.commit()
    return problem, story


def test_the_storys_author_adds_its_before_and_after_photos_once_each(app, client):
    fixer = make_user()
    problem, story = story_by(app, fixer)
    url = f"/api/v1/problems/{problem.id}/fix-story/photos"
    response = post(client, url, auth(fixer), files(jpeg(), field="before_photo"))
    assert response.status_code == 201
    body = response.get_json()
    assert body["before_photo"] is not None and body["after_photo"] is None
    assert client.get(f"/api/v1/problems/{problem.id}/fix-story").get_json()["before_photo"] == body["before_photo"]
    both = {**files(jpeg(), field="before_photo"), **files(jpeg(), field="after_photo")}
    again = post(client, url, auth(fixer), both)
    assert again.status_code == 409 and error_of(again)["code"] == "photos_not_taken"
    after = post(client, url, auth(fixer), files(jpeg(), field="after_photo"))
    assert after.status_code == 201 and after.get_json()["after_photo"] is not None


def test_fix_story_photo_refusals(app, client):
    fixer = make_user()
    problem, story = story_by(app, fixer)
    url = f"/api/v1/problems/{problem.id}/fix-story/photos"
    assert post(client, url, auth(make_organiser()), files(jpeg(), field="after_photo")).status_code == 403
    none = post(client, url, auth(fixer), {"note": "nothing"})
    assert none.status_code == 422 and list(error_of(none)["fields"]) == ["before_photo"]
    bad = post(client, url, auth(fixer), files(b"plain text", field="after_photo"))
    assert bad.status_code == 422 and list(error_of(bad)["fields"]) == ["after_photo"]
    two = post(client, url, auth(fixer), files(jpeg(), jpeg(), field="after_photo"))
    assert two.status_code == 422 and list(error_of(two)["fields"]) == ["after_photo"]
    no_story = make_problem(make_user())
    assert post(client, f"/api/v1/problems/{no_story.id}/fix-story/photos", auth(fixer),
                files(jpeg(), field="after_photo")).status_code == 404
    db.session.expire_all()
    assert db.session.get(type(story), story.id).after_photo_id is None


# --- racing uploads --------------------------------------------------------------------------

def test_racing_uploads_on_postgresql_never_pass_the_limit(pg):
    """Each request counts the photos under a lock on their owner, so four requests of one
    photo each, at once, store three and refuse one."""
    import threading

    from challenges.models import Problem
    from media import services as media
    from media.services import PhotoLimitReached

    reporter = make_user()
    problem_id, reporter_id = make_problem(reporter).id, reporter.id
    db.session.remove()
    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def upload_in_thread() -> None:
        with pg.test_request_context():
            try:
                barrier.wait(timeout=10)
                actor = db.session.get(type(reporter), reporter_id)
                media.add_problem_photos(db.session, actor=actor, problem=db.session.get(Problem, problem_id),
                                         uploads=[jpeg()], **upload_settings())
                db.session.commit()
                outcomes.append("stored")
            except PhotoLimitReached:
                db.session.rollback()
                outcomes.append("refused")
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=upload_in_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(outcomes) == ["refused"] + ["stored"] * MAX_PHOTOS_PER_FORM
    assert photo_count(problem_id=problem_id) == MAX_PHOTOS_PER_FORM
