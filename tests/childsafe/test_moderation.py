"""A child's evidence (text and photos) waits for one of their teachers before anyone
outside the class sees it; photos are stored without metadata."""
from __future__ import annotations

from sqlalchemy import delete, func, select

from accounts.models import TeamMembership
from challenges import reviews
from challenges.models import Claim, Photo
from childsafe.models import ModerationHold
from extensions import db
from tests.childsafe.helpers import make_child, make_class, upload
from tests.factories import make_organiser, make_quest, make_user
from tests.media.samples import SECRET_MAKE, photo_with_gps, read
from tests.querycount import counting
from timeutil import utcnow

CHILD = "Perpetua Nightingale-Vossberg"
EVIDENCE = "I picked up the crisp packets by the swings behind Elmgrove school"


def submitted_by_child(client, login, *, team_quest=False):
    teacher, team, (child,) = make_class(None, CHILD)
    quest = make_quest(make_organiser(), mode="team" if team_quest else "solo")
    login(child)
    claim_data = {"team_id": team.id} if team_quest else {}
    assert client.post(f"/quests/{quest.id}/claim", data=claim_data).status_code == 302
    claim = db.session.scalar(select(Claim).where(Claim.quest_id == quest.id))
    data = {"evidence": EVIDENCE, "photos": [upload(photo_with_gps())]}
    if team_quest:
        data["members"] = [str(child.id)]
    response = client.post(f"/claims/{claim.id}/submit", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    photo = db.session.scalar(select(Photo).where(Photo.claim_id == claim.id))
    return teacher, child, claim, photo


def hold_state(claim_id):
    db.session.expire_all()
    return db.session.scalar(select(ModerationHold.state).where(ModerationHold.claim_id == claim_id))


def test_a_childs_photo_is_stored_without_metadata(app, client, login):
    teacher, child, claim, photo = submitted_by_child(client, login)
    stored = app.extensions["fixquest.storage"].open(photo.storage_key)
    assert SECRET_MAKE.encode() not in stored and not read(stored).getexif()


def test_held_evidence_is_seen_only_inside_the_class(client, login):
    teacher, child, claim, photo = submitted_by_child(client, login)
    assert hold_state(claim.id) == "pending"
    for insider in (child, teacher):
        login(insider)
        page = client.get(f"/claims/{claim.id}").get_data(as_text=True)
        assert EVIDENCE in page and "waits for a teacher" in page
        assert client.get(f"/photos/{photo.storage_key}.jpg").status_code == 200
    other_organiser = make_organiser()
    login(other_organiser)
    assert client.get(f"/claims/{claim.id}").status_code == 404
    assert client.get(f"/photos/{photo.storage_key}/thumb.jpg").status_code == 404
    assert CHILD not in client.get("/review").get_data(as_text=True)
    response = client.post(f"/claims/{claim.id}/review", data={"decision": "approve"})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == "submitted"


def test_the_teacher_sees_the_queue_and_releasing_opens_it_to_organisers(client, login):
    teacher, child, claim, photo = submitted_by_child(client, login)
    login(teacher)
    page = client.get("/moderation").get_data(as_text=True)
    assert EVIDENCE in page and CHILD in page and f"/photos/{photo.storage_key}/thumb.jpg" in page
    hold_id = db.session.scalar(select(ModerationHold.id))
    assert client.post(f"/moderation/{hold_id}/approve", data={}).status_code == 302
    assert hold_state(claim.id) == "approved"
    assert EVIDENCE not in client.get("/moderation").get_data(as_text=True)
    reviewer = make_organiser()
    login(reviewer)
    assert EVIDENCE in client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert client.get(f"/photos/{photo.storage_key}.jpg").status_code == 200
    assert client.post(f"/claims/{claim.id}/review", data={"decision": "approve"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == "approved"


def test_sending_back_removes_the_evidence_and_photos_and_the_child_can_resubmit(app, client, login):
    teacher, child, claim, photo = submitted_by_child(client, login)
    storage, key = app.extensions["fixquest.storage"], photo.storage_key
    assert storage.exists(key)
    login(teacher)
    hold_id = db.session.scalar(select(ModerationHold.id))
    client.post(f"/moderation/{hold_id}/reject", data={})
    db.session.expire_all()
    back = db.session.get(Claim, claim.id)
    assert (back.status, back.evidence, hold_state(claim.id)) == ("taken", None, "rejected")
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0
    assert not storage.exists(key) and not storage.exists(key + ".thumb")
    login(child)
    client.post(f"/claims/{claim.id}/submit", data={"evidence": "Better words"}, content_type="multipart/form-data")
    assert hold_state(claim.id) == "pending"


def test_a_team_claim_by_the_class_is_held_too(client, login):
    teacher, child, claim, photo = submitted_by_child(client, login, team_quest=True)
    assert claim.team_id is not None and hold_state(claim.id) == "pending"
    login(make_organiser())
    assert client.get(f"/claims/{claim.id}").status_code == 404


def test_only_the_childs_teachers_decide(client, login):
    teacher, child, claim, photo = submitted_by_child(client, login)
    hold_id = db.session.scalar(select(ModerationHold.id))
    for someone in (make_organiser(), child, make_user()):
        login(someone)
        response = client.post(f"/moderation/{hold_id}/approve", data={})
        assert response.status_code == 403
    assert hold_state(claim.id) == "pending"
    login(teacher)
    client.post(f"/moderation/{hold_id}/approve", data={})
    response = client.post(f"/moderation/{hold_id}/reject", data={})
    assert response.status_code == 302 and hold_state(claim.id) == "approved"  # decided once


def test_peer_reviewers_never_see_a_childs_claim_even_when_released(client, login, monkeypatch):
    teacher, child, claim, photo = submitted_by_child(client, login)
    quest = db.session.get(Claim, claim.id).quest
    quest.review_mode = "peer"
    db.session.commit()
    login(teacher)
    client.post(f"/moderation/{db.session.scalar(select(ModerationHold.id))}/approve", data={})
    peer = make_user()
    monkeypatch.setattr(reviews, "level_of", lambda session, user_id: 9)
    assert reviews.review_queue(db.session, peer) == []
    login(peer)
    assert client.get(f"/claims/{claim.id}").status_code == 404


def test_an_adults_evidence_is_not_held(client, login):
    player = make_user()
    quest = make_quest(make_organiser())
    login(player)
    client.post(f"/quests/{quest.id}/claim", data={})
    claim = db.session.scalar(select(Claim))
    client.post(f"/claims/{claim.id}/submit", data={"evidence": "Done"}, content_type="multipart/form-data")
    assert db.session.scalar(select(func.count()).select_from(ModerationHold)) == 0
    login(make_organiser())
    assert client.get(f"/claims/{claim.id}").status_code == 200


def test_the_teacher_finds_held_work_in_the_review_queue_and_others_only_released_work(client, login):
    teacher, child, claim, photo = submitted_by_child(client, login)
    login(teacher)
    assert f"/claims/{claim.id}" in client.get("/review").get_data(as_text=True)
    other = make_organiser()
    login(other)
    assert f"/claims/{claim.id}" not in client.get("/review").get_data(as_text=True)
    login(teacher)
    client.post(f"/moderation/{db.session.scalar(select(ModerationHold.id))}/approve", data={})
    login(other)
    assert f"/claims/{claim.id}" in client.get("/review").get_data(as_text=True)


def test_the_moderation_queue_reads_the_same_few_queries_however_much_waits(client, login):
    teacher, team, (first,) = make_class(None, "Ada Pemberton-Lux")
    organiser = make_organiser()

    def submit(child):
        quest = make_quest(organiser)
        login(child)
        client.post(f"/quests/{quest.id}/claim", data={})
        claim = db.session.scalar(select(Claim).where(Claim.quest_id == quest.id))
        client.post(f"/claims/{claim.id}/submit", data={"evidence": "Tidied", "photos": [upload(photo_with_gps())]},
                    content_type="multipart/form-data")

    def statements():
        login(teacher)
        with counting(db.engine) as sent:
            assert client.get("/moderation").status_code == 200
        return len(sent)

    submit(first)
    one = statements()
    for n in range(4):
        child = make_child(f"Pupil {n}")
        db.session.add(TeamMembership(team_id=team.id, user_id=child.id, joined_at=utcnow()))  # as a class does
        db.session.commit()
        submit(child)
    login(teacher)
    page = client.get("/moderation").get_data(as_text=True)
    assert page.count("Release<span") == 5
    assert statements() == one


def test_organisers_reviewing_released_work_see_the_work_but_not_the_childs_name(client, login):
    teacher, child, claim, photo = submitted_by_child(client, login)
    login(teacher)
    client.post(f"/moderation/{db.session.scalar(select(ModerationHold.id))}/approve", data={})
    assert CHILD in client.get(f"/claims/{claim.id}").get_data(as_text=True)
    login(make_organiser())
    for url in (f"/claims/{claim.id}", "/review"):
        page = client.get(url).get_data(as_text=True)
        assert CHILD not in page and "a pupil" in page
    assert EVIDENCE in client.get(f"/claims/{claim.id}").get_data(as_text=True)


def test_a_teacher_who_approves_the_claim_itself_also_releases_the_held_evidence(client, login):
    teacher, child, claim, photo = submitted_by_child(client, login)
    # A class's teacher captains its team without being a member (as classes/ makes it), so
    # the rule against reviewing your own team's work does not stop them.
    db.session.execute(delete(TeamMembership).where(TeamMembership.user_id == teacher.id))
    db.session.commit()
    login(teacher)
    assert client.post(f"/claims/{claim.id}/review", data={"decision": "approve", "reason": ""}).status_code == 302
    assert hold_state(claim.id) == "approved"
    assert client.get("/moderation").get_data(as_text=True).count(f"/moderation/") == 0
