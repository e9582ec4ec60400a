"""Moderation and administration through the API: flags, the moderators' queue and their
decisions, a teacher's held pupils' evidence, suspensions, roles, the word list, integrity
alerts and the audit log, with the pages' rules on who may do what, and the same audit rows
as the pages write."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from accounts.models import User
from accounts.services import issue_token
from challenges import services as challenges
from challenges.models import Claim, Problem
from childsafe.models import ModerationHold
from extensions import db
from integrity.models import IntegrityAlert
from moderation.models import AuditEntry, Flag, HeldWord
from tests.api import auth, error_of
from tests.childsafe.helpers import make_child, make_class
from tests.factories import make_organiser, make_problem, make_quest, make_user
from tests.test_integrity import _approve_new
from timeutil import utcnow

API = "/api/v1"


def read_auth(user) -> dict[str, str]:
    token = issue_token(db.session, user=user, name="reader", scope="read")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def make_admin(**kw) -> User:
    return make_user(role="admin", **kw)


def audit_rows() -> list[tuple]:
    db.session.expire_all()
    return [(e.action, e.object_kind, e.object_id, e.reason, json.loads(e.detail) if e.detail else None, e.actor_id)
            for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def flag(client, headers, kind, object_id, reason="abuse", **more):
    return client.post(f"{API}/flags", json={"kind": kind, "object_id": object_id, "reason": reason, **more},
                       headers=headers)


# --- flags -----------------------------------------------------------------------------------

def test_flagging_reaches_the_moderators_queue_once_per_person(client):
    problem = make_problem(make_user(), title="Rude words on the wall")
    flagger = make_user()
    response = flag(client, auth(flagger), "problem", problem.id, "abuse", text="It names a neighbour")
    assert response.status_code == 201
    assert response.get_json()["status"] == "open" and response.get_json()["kind"] == "problem"
    again = flag(client, auth(flagger), "problem", problem.id, "spam")
    assert again.status_code == 409 and error_of(again)["code"] == "already_flagged"
    flag(client, auth(make_user()), "problem", problem.id, "spam")
    queue = client.get(f"{API}/moderation/queue", headers=read_auth(make_organiser())).get_json()
    assert queue["held"] == [] and len(queue["flagged"]) == 1
    entry = queue["flagged"][0]
    assert (entry["kind"], entry["object_id"], entry["label"], entry["flags"]) == (
        "problem", problem.id, "Rude words on the wall", 2)
    assert entry["reasons"] == {"abuse": 1, "spam": 1} and entry["texts"] == ["It names a neighbour"]


def test_flagging_refusals(client):
    owner = make_user()
    problem = make_problem(owner)
    child = make_user()
    headers = auth(child)
    child.is_child = True
    db.session.commit()
    refused = flag(client, headers, "problem", problem.id)
    assert refused.status_code == 403 and error_of(refused)["code"] == "child_account"
    assert flag(client, auth(owner), "problem", problem.id).status_code == 403
    someone = auth(make_user())
    for body, field in (({"kind": "planet", "object_id": problem.id, "reason": "abuse"}, "kind"),
                        ({"kind": "problem", "object_id": problem.id}, "reason"),
                        ({"kind": "problem", "object_id": "one", "reason": "abuse"}, "object_id")):
        response = client.post(f"{API}/flags", json=body, headers=someone)
        assert response.status_code == 422 and list(error_of(response)["fields"]) == [field], body
    assert list(error_of(flag(client, someone, "problem", problem.id, "boring"))["fields"]) == ["reason"]
    assert flag(client, someone, "problem", 99999).status_code == 404
    hidden = make_problem(make_user())
    hidden.visibility = "held"
    db.session.commit()
    assert flag(client, someone, "problem", hidden.id).status_code == 404  # what you cannot see does not exist
    assert flag(client, {}, "problem", problem.id).status_code == 401
    assert error_of(flag(client, read_auth(make_user()), "problem", problem.id))["code"] == "insufficient_scope"
    assert db.session.scalar(select(func.count()).select_from(Flag)) == 0


# --- the queue and decisions -----------------------------------------------------------------

def test_only_moderators_see_the_queue_and_decide(client):
    problem = make_problem(make_user())
    participant = auth(make_user())
    assert client.get(f"{API}/moderation/queue", headers=participant).status_code == 403
    response = client.post(f"{API}/moderation/problem/{problem.id}/hide", json={"reason": "Abusive"},
                           headers=participant)
    assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    read_only = client.post(f"{API}/moderation/problem/{problem.id}/hide", json={"reason": "Abusive"},
                            headers=read_auth(make_organiser()))
    assert error_of(read_only)["code"] == "insufficient_scope"
    assert client.get(f"{API}/moderation/queue").status_code == 401
    assert db.session.get(Problem, problem.id).visibility == "public" and audit_rows() == []


def test_hide_restore_and_dismiss_write_the_audit_log_as_the_page_does(client, login):
    organiser = make_organiser()
    on_page, by_api = make_problem(make_user(), title="On the page"), make_problem(make_user(), title="By the API")
    for problem in (on_page, by_api):
        flag(client, auth(make_user()), "problem", problem.id)
    login(organiser)
    assert client.post(f"/moderate/problem/{on_page.id}/hide", data={"reason": "Abusive"}).status_code == 302
    headers = auth(organiser)
    url = f"{API}/moderation/problem/{by_api.id}"
    no_reason = client.post(f"{url}/hide", json={}, headers=headers)
    assert no_reason.status_code == 422 and list(error_of(no_reason)["fields"]) == ["reason"]
    hidden = client.post(f"{url}/hide", json={"reason": "Abusive"}, headers=headers)
    assert hidden.status_code == 200 and hidden.get_json() == {
        "kind": "problem", "object_id": by_api.id, "action": "hide", "visibility": "hidden", "flags_closed": None}
    assert client.get(f"{API}/problems/{by_api.id}").status_code == 404
    page_row, api_row = audit_rows()
    assert page_row[0] == api_row[0] == "hide" and page_row[3:] == api_row[3:]
    assert api_row[4] == {"flags_closed": 1}
    assert client.post(f"{url}/hide", json={"reason": "Again"}, headers=headers).status_code == 409
    restored = client.post(f"{url}/restore", json={"reason": "On second look"}, headers=headers)
    assert restored.get_json()["visibility"] == "public" and client.get(f"{API}/problems/{by_api.id}").status_code == 200
    assert client.post(f"{url}/restore", json={"reason": "x"}, headers=headers).status_code == 409
    assert client.post(f"{url}/dismiss", headers=headers).status_code == 409  # the hide closed its flags
    flag(client, auth(make_user()), "problem", by_api.id)
    dismissed = client.post(f"{url}/dismiss", headers=headers)
    assert dismissed.get_json()["flags_closed"] == 1 and dismissed.get_json()["visibility"] == "public"
    assert [row[0] for row in audit_rows()] == ["hide", "hide", "restore", "dismiss"]
    assert client.post(f"{API}/moderation/problem/99999/hide", json={"reason": "x"}, headers=headers).status_code == 404
    assert client.post(f"{API}/moderation/planet/1/hide", json={"reason": "x"}, headers=headers).status_code == 404


def test_a_held_post_is_released_from_the_queue(app, client):
    admin, organiser = make_admin(), make_organiser()
    assert client.post(f"{API}/admin/words", json={"word": "Zorblax"}, headers=auth(admin)).status_code == 201
    problem_id = challenges.report_problem(db.session, actor=make_user(), title="Bench smashed",
                                           description="A zorblax did this", category="other", lat=51.45,
                                           lon=-2.58, address=None, categories=app.config["CATEGORIES"]).id
    db.session.commit()
    queue = client.get(f"{API}/moderation/queue", headers=auth(organiser)).get_json()
    assert [(h["kind"], h["object_id"]) for h in queue["held"]] == [("problem", problem_id)]
    assert "Zorblax" in queue["held"][0]["reason"]
    assert client.get(f"{API}/problems/{problem_id}").status_code == 404
    released = client.post(f"{API}/moderation/problem/{problem_id}/release", headers=auth(organiser))
    assert released.status_code == 200 and released.get_json()["visibility"] == "public"
    assert client.get(f"{API}/problems/{problem_id}").status_code == 200
    assert client.post(f"{API}/moderation/problem/{problem_id}/release", headers=auth(organiser)).status_code == 409
    assert [row[0] for row in audit_rows()] == ["word_added", "release"]


def test_a_childs_profile_is_a_pupil_in_the_queue_to_other_moderators(client):
    teacher, team, (child,) = make_class(None, "Perpetua Nightingale")
    flag(client, auth(teacher), "profile", child.id, "other")
    others = client.get(f"{API}/moderation/queue", headers=auth(make_organiser())).get_json()
    assert others["flagged"][0]["label"] == "a pupil"
    assert "Nightingale" not in json.dumps(others)
    mine = client.get(f"{API}/moderation/queue", headers=auth(teacher)).get_json()
    assert mine["flagged"][0]["label"] == "Perpetua Nightingale"


def test_a_pupils_held_evidence_is_quoted_only_to_their_teacher(app, client):
    app.config["MODERATION_WORDS"] = ("grotnik",)
    try:
        teacher, child, claim, hold_id = held_evidence(client, evidence="Swept up the grotnik by the swings")
    finally:
        app.config["MODERATION_WORDS"] = ()
    others = client.get(f"{API}/moderation/queue", headers=auth(make_organiser())).get_json()
    assert [(h["kind"], h["object_id"]) for h in others["held"]] == [("evidence", claim.id)]
    assert "swings" not in json.dumps(others) and others["held"][0]["label"].startswith("(a pupil's evidence")
    mine = client.get(f"{API}/moderation/queue", headers=auth(teacher)).get_json()
    assert mine["held"][0]["label"] == "Swept up the grotnik by the swings"


def test_the_queue_page_names_a_child_only_to_their_teacher_as_the_api_does(client, login):
    teacher, team, (child,) = make_class(None, "Perpetua Nightingale")
    flag(client, auth(teacher), "profile", child.id, "other")
    login(make_organiser())
    page = client.get("/moderate").get_data(as_text=True)
    assert "Profile #%d" % child.id in page and "a pupil" in page and "Nightingale" not in page
    login(teacher)
    assert "Perpetua Nightingale" in client.get("/moderate").get_data(as_text=True)


def test_flaggers_notes_on_a_pupils_item_are_shown_only_to_their_teacher(client, login):
    """Found in review: a flagger's note may quote the pupil it is about."""
    teacher, team, (child,) = make_class(None, "Perpetua Nightingale")
    flag(client, auth(teacher), "profile", child.id, "other", text="Perpetua Nightingale picked a rude name")
    others = client.get(f"{API}/moderation/queue", headers=auth(make_organiser())).get_json()
    assert "Nightingale" not in json.dumps(others) and "not shown" in others["flagged"][0]["texts"][0]
    mine = client.get(f"{API}/moderation/queue", headers=auth(teacher)).get_json()
    assert mine["flagged"][0]["texts"] == ["Perpetua Nightingale picked a rude name"]
    login(make_organiser())
    assert "Nightingale" not in client.get("/moderate").get_data(as_text=True)
    login(teacher)
    assert "picked a rude name" in client.get("/moderate").get_data(as_text=True)


def test_the_queue_page_quotes_a_pupils_held_evidence_only_to_their_teacher(app, client, login):
    app.config["MODERATION_WORDS"] = ("grotnik",)
    try:
        teacher, child, claim, hold_id = held_evidence(client, evidence="Swept up the grotnik by the swings")
    finally:
        app.config["MODERATION_WORDS"] = ()
    login(make_organiser())
    page = client.get("/moderate").get_data(as_text=True)
    assert "Evidence #%d" % claim.id in page and "swings" not in page
    login(teacher)
    assert "Swept up the grotnik by the swings" in client.get("/moderate").get_data(as_text=True)


# --- a teacher's held pupils' evidence -------------------------------------------------------

def held_evidence(client, evidence="Picked up the crisp packets"):
    teacher, team, (child,) = make_class(None, "Perpetua Nightingale")
    quest = make_quest(make_organiser())
    claim = challenges.claim_quest(db.session, actor=child, quest=quest)
    db.session.commit()
    challenges.submit_evidence(db.session, actor=child, claim=claim, evidence=evidence)
    db.session.commit()
    return teacher, child, claim, db.session.scalar(select(ModerationHold.id))


def test_the_teacher_releases_or_sends_back_their_pupils_evidence(client):
    teacher, child, claim, hold_id = held_evidence(client)
    waiting = client.get(f"{API}/holds", headers=read_auth(teacher)).get_json()["items"]
    assert [(w["id"], w["child"], w["evidence"]) for w in waiting] == [
        (hold_id, "Perpetua Nightingale", "Picked up the crisp packets")]
    other = make_organiser()
    assert client.get(f"{API}/holds", headers=auth(other)).get_json()["items"] == []
    assert client.get(f"{API}/holds", headers=auth(make_user())).status_code == 403
    refused = client.post(f"{API}/holds/{hold_id}/approve", headers=auth(other))
    assert refused.status_code == 403 and "Nightingale" not in refused.get_data(as_text=True)
    assert error_of(client.post(f"{API}/holds/{hold_id}/approve", headers=read_auth(teacher)))["code"] == \
        "insufficient_scope"
    sent_back = client.post(f"{API}/holds/{hold_id}/reject", headers=auth(teacher))
    assert sent_back.status_code == 200 and sent_back.get_json()["state"] == "rejected"
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status == "taken" and db.session.get(Claim, claim.id).evidence is None
    assert client.post(f"{API}/holds/{hold_id}/approve", headers=auth(teacher)).status_code == 409
    assert client.post(f"{API}/holds/99999/approve", headers=auth(teacher)).status_code == 404
    assert client.get(f"{API}/holds", headers=auth(teacher)).get_json()["items"] == []


def test_approving_held_evidence_releases_it(client):
    teacher, child, claim, hold_id = held_evidence(client)
    approved = client.post(f"{API}/holds/{hold_id}/approve", headers=auth(teacher))
    assert approved.get_json()["state"] == "approved" and approved.get_json()["claim_id"] == claim.id


def test_held_photos_are_listed_for_the_teacher_and_served_only_as_on_the_page(client, login):
    from media.services import add_evidence_photos
    from media.views import upload_settings
    from tests.api.test_photos import jpeg

    teacher, team, (child,) = make_class(None, "Perpetua Nightingale")
    claim = challenges.claim_quest(db.session, actor=child, quest=make_quest(make_organiser()))
    photo, = add_evidence_photos(db.session, actor=child, claim=claim, uploads=[jpeg()], **upload_settings())
    challenges.submit_evidence(db.session, actor=child, claim=claim, evidence="Picked up the crisp packets")
    db.session.commit()
    [waiting] = client.get(f"{API}/holds", headers=read_auth(teacher)).get_json()["items"]
    [listed] = waiting["photos"]
    assert listed == {"url": f"/photos/{photo.storage_key}.jpg", "thumbnail": f"/photos/{photo.storage_key}/thumb.jpg"}
    assert client.get(f"{API}/holds", headers=auth(make_organiser())).get_json()["items"] == []
    login(teacher)
    assert listed["url"] in client.get("/moderation").get_data(as_text=True)  # the page shows the same photo
    for url in listed.values():
        served = client.get(url)
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert served.headers["Cache-Control"] == "private, no-store"
    for outsider in (make_organiser(), make_user(role="admin"), make_user()):
        login(outsider)
        assert [client.get(url).status_code for url in listed.values()] == [404, 404]
    anonymous = client.application.test_client()
    assert [anonymous.get(url).status_code for url in listed.values()] == [404, 404]


# --- suspensions and roles -------------------------------------------------------------------

def test_an_admin_suspends_and_lifts_as_on_the_page(client):
    admin, person = make_admin(), make_user()
    their_token = auth(person)
    url = f"{API}/admin/users/{person.id}"
    until = (utcnow() + timedelta(days=3)).isoformat()
    for body, field in (({}, "reason"), ({"reason": "  "}, "reason"), ({"reason": "Spam", "until": "soon"}, "until"),
                        ({"reason": "Spam", "until": "2020-01-01T00:00:00Z"}, "until")):
        response = client.post(f"{url}/suspend", json=body, headers=auth(admin))
        assert response.status_code == 422 and list(error_of(response)["fields"]) == [field], body
    suspended = client.post(f"{url}/suspend", json={"reason": "Spamming reports", "until": until},
                            headers=auth(admin))
    assert suspended.status_code == 200
    assert suspended.get_json()["suspended"] is True and suspended.get_json()["suspension_reason"] == "Spamming reports"
    blocked = client.patch(f"{API}/me", json={}, headers=their_token)
    assert blocked.status_code == 403 and error_of(blocked)["code"] == "account_suspended"
    lifted = client.post(f"{url}/lift", json={"reason": "Apologised"}, headers=auth(admin))
    assert lifted.status_code == 200 and lifted.get_json()["suspended"] is False
    assert client.patch(f"{API}/me", json={}, headers=their_token).status_code == 200
    assert client.post(f"{url}/lift", headers=auth(admin)).status_code == 409
    rows = audit_rows()
    assert [(r[0], r[1], r[2], r[3], r[5]) for r in rows] == [("suspend", "user", person.id, "Spamming reports", admin.id),
                                                               ("lift_suspension", "user", person.id, "Apologised",
                                                                admin.id)]
    assert rows[0][4]["until"] is not None


def test_only_admins_suspend_and_never_themselves(client):
    admin, person = make_admin(), make_user()
    for headers in (auth(make_organiser()), auth(make_user())):
        refused = client.post(f"{API}/admin/users/{person.id}/suspend", json={"reason": "x"}, headers=headers)
        assert refused.status_code == 403
        assert client.post(f"{API}/admin/users/99999/suspend", json={"reason": "x"}, headers=headers).status_code == 403
        assert client.post(f"{API}/admin/users/{person.id}/lift", headers=headers).status_code == 403
    assert client.post(f"{API}/admin/users/{admin.id}/suspend", json={"reason": "x"},
                       headers=auth(admin)).status_code == 403
    assert client.post(f"{API}/admin/users/99999/suspend", json={"reason": "x"}, headers=auth(admin)).status_code == 404
    assert error_of(client.post(f"{API}/admin/users/{person.id}/suspend", json={"reason": "x"},
                                headers=read_auth(admin)))["code"] == "insufficient_scope"
    db.session.expire_all()
    assert db.session.get(User, person.id).suspended_at is None and audit_rows() == []


def test_an_admin_sets_roles_and_a_child_stays_a_participant(client, login):
    admin, person, other = make_admin(), make_user(), make_user()
    set_role = client.post(f"{API}/admin/users/{person.id}/role", json={"role": "organiser"}, headers=auth(admin))
    assert set_role.status_code == 200 and set_role.get_json()["role"] == "organiser"
    login(admin)
    client.post(f"/admin/users/{other.id}/role", data={f"u{other.id}-role": "organiser"})
    api_row, page_row = audit_rows()
    assert api_row[0] == page_row[0] == "role_change" and api_row[4] == page_row[4] == {"from": "participant",
                                                                                        "to": "organiser"}
    child = make_child("Perpetua Nightingale")
    refused = client.post(f"{API}/admin/users/{child.id}/role", json={"role": "organiser"}, headers=auth(admin))
    assert refused.status_code == 422 and "Nightingale" not in refused.get_data(as_text=True)
    same = client.post(f"{API}/admin/users/{child.id}/role", json={"role": "participant"}, headers=auth(admin))
    assert same.get_json()["name"] == "a pupil"
    bad = client.post(f"{API}/admin/users/{person.id}/role", json={"role": "king"}, headers=auth(admin))
    assert bad.status_code == 422 and list(error_of(bad)["fields"]) == ["role"]
    assert client.post(f"{API}/admin/users/99999/role", json={"role": "admin"}, headers=auth(admin)).status_code == 404
    refused = client.post(f"{API}/admin/users/{other.id}/role", json={"role": "admin"}, headers=auth(person))
    assert refused.status_code == 403  # an organiser now, still not an admin
    db.session.expire_all()
    assert db.session.get(User, other.id).role == "organiser"


# --- the word list ---------------------------------------------------------------------------

def test_only_admins_keep_the_word_list_and_each_change_is_audited(app, client):
    admin, organiser = make_admin(), make_organiser()
    headers = auth(admin)
    added = client.post(f"{API}/admin/words", json={"word": "  flibber  "}, headers=headers)
    assert added.status_code == 201 and added.get_json()["word"] == "flibber"
    assert client.post(f"{API}/admin/words", json={"word": "flibber"}, headers=headers).status_code == 409
    for body in ({}, {"word": "!!!"}, {"word": "x" * 61}, {"word": 7}):
        response = client.post(f"{API}/admin/words", json=body, headers=headers)
        assert response.status_code == 422 and list(error_of(response)["fields"]) == ["word"], body
    app.config["MODERATION_WORDS"] = ("grotnik",)
    try:
        listed = client.get(f"{API}/admin/words", headers=read_auth(admin)).get_json()
    finally:
        app.config["MODERATION_WORDS"] = ()
    assert [w["word"] for w in listed["items"]] == ["flibber"] and listed["configured"] == ["grotnik"]
    word_id = added.get_json()["id"]
    for refused in (client.get(f"{API}/admin/words", headers=auth(organiser)),
                    client.post(f"{API}/admin/words", json={"word": "nope"}, headers=auth(organiser)),
                    client.delete(f"{API}/admin/words/{word_id}", headers=auth(organiser))):
        assert refused.status_code == 403
    removed = client.delete(f"{API}/admin/words/{word_id}", headers=headers)
    assert removed.get_json() == {"id": word_id, "word": "flibber", "removed": True}
    assert client.delete(f"{API}/admin/words/{word_id}", headers=headers).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(HeldWord)) == 0
    assert [(r[0], r[4]) for r in audit_rows()] == [("word_added", {"word": "flibber"}),
                                                    ("word_removed", {"word": "flibber"})]


# --- integrity alerts ------------------------------------------------------------------------

def test_organisers_list_alerts_and_one_not_involved_marks_it_reviewed(client):
    reviewer, claimant, colleague = make_organiser(name="Rita Reviewer"), make_user(name="Cal Claimant"), \
        make_organiser()
    claims = [_approve_new(reviewer, claimant, reviewer) for _ in range(3)]
    alert_id = db.session.scalar(select(IntegrityAlert.id))
    listed = client.get(f"{API}/integrity/alerts", headers=read_auth(reviewer)).get_json()["items"]
    assert len(listed) == 1 and listed[0]["involved"] is True
    assert (listed[0]["reviewer"], listed[0]["claimant"]) == ("Rita Reviewer", "Cal Claimant")
    assert sorted(listed[0]["claim_ids"]) == sorted(c.id for c in claims)
    assert client.get(f"{API}/integrity/alerts", headers=auth(make_user())).status_code == 403
    url = f"{API}/integrity/alerts/{alert_id}/reviewed"
    assert client.post(url, headers=auth(reviewer)).status_code == 403
    assert client.post(url, headers=auth(make_user())).status_code == 404  # as the page answers a non-organiser
    assert error_of(client.post(url, headers=read_auth(colleague)))["code"] == "insufficient_scope"
    reviewed = client.post(url, headers=auth(colleague))
    assert reviewed.status_code == 200 and reviewed.get_json()["reviewed_at"] is not None
    assert client.post(url, headers=auth(colleague)).status_code == 409
    assert client.post(f"{API}/integrity/alerts/99999/reviewed", headers=auth(colleague)).status_code == 404
    assert client.get(f"{API}/integrity/alerts", headers=auth(colleague)).get_json()["items"] == []


# --- the audit log ---------------------------------------------------------------------------

def test_admins_read_and_filter_the_audit_log(client):
    admin = make_admin(name="Ada Admin")
    people = [make_user() for _ in range(3)]
    for person in people:
        client.post(f"{API}/admin/users/{person.id}/role", json={"role": "organiser"}, headers=auth(admin))
    client.post(f"{API}/admin/words", json={"word": "flibber"}, headers=auth(admin))
    log = client.get(f"{API}/admin/audit?page_size=2", headers=read_auth(admin)).get_json()
    assert log["total"] == 4 and [e["action"] for e in log["items"]] == ["word_added", "role_change"]
    assert log["items"][0]["actor"] == "Ada Admin" and log["items"][0]["detail"] == {"word": "flibber"}
    assert [e["object_id"] for e in client.get(log["next"], headers=auth(admin)).get_json()["items"]] == [
        people[1].id, people[0].id]
    roles = client.get(f"{API}/admin/audit?action=role_change", headers=auth(admin)).get_json()
    assert roles["total"] == 3 and {e["detail"]["to"] for e in roles["items"]} == {"organiser"}
    bad = client.get(f"{API}/admin/audit?action=everything", headers=auth(admin))
    assert bad.status_code == 422 and list(error_of(bad)["fields"]) == ["action"]
    assert client.get(f"{API}/admin/audit", headers=auth(make_organiser())).status_code == 403
    assert client.get(f"{API}/admin/audit").status_code == 401
