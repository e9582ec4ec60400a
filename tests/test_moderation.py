"""Moderation: flags, the queue, hiding and restoring, the word list, suspensions and the
audit log (moderation/). The crawl of every public surface is in test_moderation_crawl.py."""
from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from accounts.models import User
from challenges.models import Claim, Problem, ProblemUpdate
from extensions import db
from moderation import audit
from moderation.models import AuditEntry, Flag, HeldWord
from moderation.wordlist import matches
from tests.api import auth, error_of
from tests.factories import PASSWORD, make_claim, make_organiser, make_problem, make_quest, make_user

REPORT = {"title": "Bench smashed in Castle Park", "description": "Someone kicked the slats in.",
          "category": "other", "lat": "51.4556", "lon": "-2.5860", "address": ""}


def flag(client, kind, object_id, reason="abuse", text=""):
    return client.post(f"/flag?kind={kind}&id={object_id}", data={"reason": reason, "text": text})


def decide(client, kind, object_id, verdict, reason="Abusive language"):
    return client.post(f"/moderate/{kind}/{object_id}/{verdict}", data={"reason": reason})


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


# --- flags -----------------------------------------------------------------------------------

def test_anyone_signed_in_flags_a_problem_once_and_it_reaches_the_queue(client, login):
    problem = make_problem(make_user(), title="Rude words on the wall")
    login(make_user())
    assert client.get(f"/flag?kind=problem&id={problem.id}").status_code == 200
    assert flag(client, "problem", problem.id, "abuse", "It names a neighbour").status_code == 302
    again = flag(client, "problem", problem.id, "spam")
    assert again.status_code == 422 and "already flagged" in again.get_data(as_text=True)
    login(make_user())
    assert flag(client, "problem", problem.id, "spam").status_code == 302
    login(make_organiser())
    page = client.get("/moderate").get_data(as_text=True)
    assert "Rude words on the wall" in page and "2 flags" in page
    assert "Spam or advertising (1)" in page and "Abusive, hateful or threatening (1)" in page
    assert "It names a neighbour" in page


def test_the_queue_lists_flagged_items_oldest_first(client, login):
    first, second = make_problem(make_user(), title="First flagged"), make_problem(make_user(), title="Second flagged")
    login(make_user())
    flag(client, "problem", second.id)
    flag(client, "problem", first.id)
    login(make_organiser())
    page = client.get("/moderate").get_data(as_text=True)
    assert page.index("Second flagged") < page.index("First flagged")


def test_children_and_owners_cannot_flag_and_a_reason_is_needed(client, login):
    owner = make_user()
    problem = make_problem(owner)
    child = make_user()
    child.is_child = True
    db.session.commit()
    login(child)
    assert flag(client, "problem", problem.id).status_code == 403
    login(owner)
    assert flag(client, "problem", problem.id).status_code == 403
    login(make_user())
    response = flag(client, "problem", problem.id, reason="")
    assert response.status_code == 422 and "Choose a reason" in response.get_data(as_text=True)
    assert client.get("/flag?kind=nonsense&id=1").status_code == 404
    assert client.get("/flag?kind=problem&id=999999").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Flag)) == 0


def test_anonymous_visitors_are_sent_to_log_in_and_participants_cannot_moderate(client, login):
    problem = make_problem(make_user())
    assert flag(client, "problem", problem.id).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Flag)) == 0
    login(make_user())
    assert client.get("/moderate").status_code == 403
    assert decide(client, "problem", problem.id, "hide").status_code == 403
    assert db.session.get(Problem, problem.id).visibility == "public"


def test_problem_pages_offer_a_report_link_to_others_only(client, login):
    owner = make_user()
    problem = make_problem(owner)
    login(make_user())
    assert f"/flag?kind=problem&amp;id={problem.id}" in client.get(f"/problems/{problem.id}").get_data(as_text=True)
    login(owner)
    assert "/flag?kind=problem" not in client.get(f"/problems/{problem.id}").get_data(as_text=True)


# --- hide, restore, dismiss ------------------------------------------------------------------

def test_hiding_a_problem_takes_it_off_public_surfaces_and_the_owner_sees_why(client, login):
    owner = make_user()
    problem = make_problem(owner, title="Offensive report title")
    login(make_user())
    flag(client, "problem", problem.id)
    login(make_organiser())
    assert decide(client, "problem", problem.id, "hide", reason="").status_code == 302
    assert db.session.get(Problem, problem.id).visibility == "public"  # a reason is required
    assert decide(client, "problem", problem.id, "hide", reason="Targets a person").status_code == 302
    db.session.expire_all()
    assert db.session.get(Problem, problem.id).visibility == "hidden"
    assert db.session.scalar(select(Flag.status)) == "actioned"
    with client.session_transaction() as sess:
        sess.clear()
    assert client.get(f"/problems/{problem.id}").status_code == 404
    assert "Offensive report title" not in client.get("/problems").get_data(as_text=True)
    assert client.get(f"/api/v1/problems/{problem.id}").status_code == 404
    assert client.get(f"/open311/v2/requests/{problem.id}.json").status_code == 404
    login(owner)
    page = client.get(f"/problems/{problem.id}").get_data(as_text=True)
    assert "Hidden by a moderator" in page and "Targets a person" in page
    login(make_organiser())
    assert decide(client, "problem", problem.id, "restore", reason="Reworded by the reporter").status_code == 302
    with client.session_transaction() as sess:
        sess.clear()
    assert client.get(f"/problems/{problem.id}").status_code == 200
    assert "Offensive report title" in client.get("/problems").get_data(as_text=True)
    assert actions() == ["hide", "restore"]


def test_dismissing_closes_the_flags_and_leaves_the_item_public(client, login):
    problem = make_problem(make_user(), title="A fair complaint")
    login(make_user())
    flag(client, "problem", problem.id, "false")
    login(make_organiser())
    assert decide(client, "problem", problem.id, "dismiss", reason="").status_code == 302
    assert db.session.scalar(select(Flag.status)) == "dismissed"
    assert db.session.get(Problem, problem.id).visibility == "public"
    assert "A fair complaint" not in client.get("/moderate").get_data(as_text=True)
    assert actions() == ["dismiss"]


def test_hidden_evidence_is_seen_by_its_claimant_and_organisers_only(client, login):
    organiser, claimant = make_organiser(), make_user()
    claim = make_claim(claimant, make_quest(organiser), submit=True)
    claim.evidence = "Evidence with a slur in it"
    db.session.commit()
    login(organiser)
    assert decide(client, "evidence", claim.id, "hide", reason="A slur").status_code == 302
    login(claimant)
    page = client.get(f"/claims/{claim.id}").get_data(as_text=True)
    assert "Evidence with a slur in it" in page and "A slur" in page
    login(make_organiser())
    assert "Evidence with a slur in it" in client.get(f"/claims/{claim.id}").get_data(as_text=True)


def test_a_hidden_profile_is_gone_and_off_the_boards(client, login):
    person = make_user(name="Rude Name Person")
    login(make_organiser())
    assert decide(client, "profile", person.id, "hide", reason="Offensive name").status_code == 302
    with client.session_transaction() as sess:
        sess.clear()
    assert client.get(f"/people/{person.id}").status_code == 404
    login(person)
    page = client.get(f"/people/{person.id}").get_data(as_text=True)
    assert "Hidden by a moderator" in page and "Offensive name" in page


def test_the_organise_page_links_the_queue_with_its_count(client, login):
    problem = make_problem(make_user())
    login(make_user())
    flag(client, "problem", problem.id)
    login(make_organiser())
    page = client.get("/organise").get_data(as_text=True)
    assert "/moderate" in page and "1 flagged or held item waiting" in page


# --- the word list ---------------------------------------------------------------------------

def test_matching_is_whole_word_case_and_accent_insensitive():
    assert matches(["badword"], "This is a BADWORD here") == ["badword"]
    assert matches(["badword"], "b4dw0rd!") == ["badword"]
    assert matches(["badword"], "Bádwörd") == ["badword"]
    assert matches(["badword"], "badwords are fine", "notbadword") == []
    assert matches(["two words"], "these Two  Words together") == ["two words"]
    assert matches(["ass"], "a class assignment") == []


def test_a_report_with_a_listed_word_is_saved_but_held_until_released(app, client, login):
    reporter = make_user()
    login(make_user(role="admin"))
    assert client.post("/admin/words", data={"word": "Zorblax"}).status_code == 302
    login(reporter)
    response = client.post("/problems/new", data={**REPORT, "description": "A zorblax did this"})
    assert response.status_code == 302
    problem = db.session.scalar(select(Problem).where(Problem.reporter_id == reporter.id))
    assert problem.visibility == "held" and problem.description == "A zorblax did this"  # never lost
    assert "Awaiting review" in client.get(f"/problems/{problem.id}").get_data(as_text=True)
    with client.session_transaction() as sess:
        sess.clear()
    assert client.get(f"/problems/{problem.id}").status_code == 404
    assert REPORT["title"] not in client.get("/problems").get_data(as_text=True)
    login(make_organiser())
    assert "Zorblax" in client.get("/moderate").get_data(as_text=True)  # the reason names the word
    assert decide(client, "problem", problem.id, "release", reason="").status_code == 302
    with client.session_transaction() as sess:
        sess.clear()
    assert client.get(f"/problems/{problem.id}").status_code == 200
    assert actions() == ["word_added", "release"]


def test_configured_words_hold_comments_and_evidence_too(app, client, login):
    app.config["MODERATION_WORDS"] = ("grotnik",)
    organiser, claimant = make_organiser(), make_user()
    problem = make_problem(make_user())
    login(organiser)
    client.post(f"/problems/{problem.id}/comments", data={"body": "What a GROTNIK mess"})
    entry = db.session.scalar(select(ProblemUpdate).where(ProblemUpdate.kind == "comment"))
    assert entry.visibility == "held"
    claim = make_claim(claimant, make_quest(organiser))
    login(claimant)
    client.post(f"/claims/{claim.id}/submit", data={"evidence": "Swept up the grotnik"},
                content_type="multipart/form-data")
    db.session.expire_all()
    claim = db.session.get(Claim, claim.id)
    assert claim.status == "submitted" and claim.evidence_visibility == "held"
    assert "Awaiting review" in client.get(f"/claims/{claim.id}").get_data(as_text=True)
    with client.session_transaction() as sess:
        sess.clear()
    assert "What a GROTNIK mess" not in client.get(f"/problems/{problem.id}").get_data(as_text=True)
    assert "What a GROTNIK mess" not in client.get(f"/feeds/problems/{problem.id}.atom").get_data(as_text=True)
    app.config["MODERATION_WORDS"] = ()


def test_only_admins_change_the_word_list_and_each_change_is_audited(client, login):
    login(make_organiser())
    assert client.post("/admin/words", data={"word": "nope"}).status_code == 403
    login(make_user(role="admin"))
    client.post("/admin/words", data={"word": "flibber"})
    word_id = db.session.scalar(select(HeldWord.id))
    assert client.post(f"/admin/words/{word_id}/delete", data={}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(HeldWord)) == 0
    assert actions() == ["word_added", "word_removed"]


# --- suspensions -----------------------------------------------------------------------------

def test_a_suspended_person_is_logged_out_cannot_log_in_or_use_tokens_until_lifted(client, login):
    person = make_user()
    headers = auth(person)
    login(person)
    assert client.get("/account/tokens").status_code == 200
    admin = make_user(role="admin")
    login(admin)
    assert client.post(f"/admin/users/{person.id}/suspend", data={"reason": "Spamming reports"}).status_code == 302
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{person.id}.0"  # the person's old cookie
    assert client.get("/account/tokens").status_code == 302  # sent to log in: the session ended
    response = client.post("/login", data={"email": person.email, "password": PASSWORD})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "suspended" in page and "Spamming reports" in page
    api = client.post("/api/v1/problems", json={**REPORT, "lat": 51.45, "lon": -2.58}, headers=headers)
    assert api.status_code == 403 and error_of(api)["code"] == "account_suspended"
    assert make_problem(person).visibility == "public"  # what they made stays unless hidden
    login(admin)
    assert client.post(f"/admin/users/{person.id}/lift", data={"reason": "Apologised"}).status_code == 302
    assert client.post("/login", data={"email": person.email, "password": PASSWORD}).status_code == 302
    assert actions() == ["suspend", "lift_suspension"]


def test_a_suspension_with_an_end_date_ends_by_itself(client, login):
    from datetime import timedelta
    from moderation import suspension
    from timeutil import utcnow

    person, admin = make_user(), make_user(role="admin")
    suspension.suspend(db.session, actor=admin, user=person, reason="Cool off", until=utcnow() + timedelta(days=1))
    db.session.commit()
    assert person.is_suspended()
    assert not person.is_suspended(utcnow() + timedelta(days=2))


def test_only_admins_suspend_and_not_themselves(client, login):
    person, organiser, admin = make_user(), make_organiser(), make_user(role="admin")
    login(organiser)
    assert client.post(f"/admin/users/{person.id}/suspend", data={"reason": "x"}).status_code == 403
    login(admin)
    assert client.post(f"/admin/users/{admin.id}/suspend", data={"reason": "x"}).status_code == 403
    response = client.post(f"/admin/users/{person.id}/suspend", data={"reason": ""})
    assert response.status_code == 422 and "Say why" in response.get_data(as_text=True)
    assert db.session.get(User, person.id).suspended_at is None


# --- the audit log ---------------------------------------------------------------------------

def test_role_changes_are_audited_and_admins_read_filter_and_export_the_log(client, login):
    admin, person = make_user(role="admin", name="Ada Admin"), make_user()
    login(admin)
    client.post(f"/admin/users/{person.id}/role", data={f"u{person.id}-role": "organiser"})
    problem = make_problem(make_user(), title="=HYPERLINK(1)")
    decide(client, "problem", problem.id, "hide", reason="=cmd|' /C calc'!A0")
    page = client.get("/admin/audit?action=role_change").get_data(as_text=True)
    assert "role_change" in page and "organiser" in page and "cmd" not in page
    rows = list(csv.reader(io.StringIO(client.get("/admin/audit.csv").get_data(as_text=True))))
    assert rows[0][:5] == ["id", "when", "actor_id", "actor", "action"]
    assert [row[4] for row in rows[1:]] == ["hide", "role_change"]
    assert rows[1][7].startswith("'=")  # spreadsheet-safe
    login(make_organiser())
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403


def test_the_app_never_updates_or_deletes_audit_rows():
    import inspect
    import pathlib

    sources = [p for p in pathlib.Path(__file__).resolve().parents[1].rglob("*.py")
               if "tests" not in p.parts and ".venv" not in p.parts and "migrations" not in p.parts]
    offenders = [str(p) for p in sources if "AuditEntry" in (text := p.read_text()) and (
        "delete(AuditEntry" in text or "update(AuditEntry" in text)]
    assert offenders == []
    assert "session.add(entry)" in inspect.getsource(audit.record)


# --- rate limits -----------------------------------------------------------------------------

def test_flagging_is_rate_limited_with_a_friendly_page(app, ctx, database_url):
    from app import create_app
    from tests.conftest import CsrfClient, app_config

    limited = create_app({**app_config(database_url, None), "AUTO_MIGRATE": False, "RATELIMIT_ENABLED": True,
                          "RATELIMIT_OVERRIDES": {"moderation.flag": "2/hour"}})
    limited.test_client_class = CsrfClient
    problems = [make_problem(make_user(), lat=51.4 + n / 100) for n in range(3)]
    flagger = make_user()
    client = limited.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = flagger.get_id()
    statuses = [flag(client, "problem", p.id).status_code for p in problems]
    assert statuses == [302, 302, 429]
    response = flag(client, "problem", problems[2].id)
    assert int(response.headers["Retry-After"]) >= 1 and "Please slow down" in response.get_data(as_text=True)


def test_every_limit_the_issue_names_is_in_the_table():
    import ratelimits

    named = {"accounts.login", "accounts.register", "accounts.request_password_reset", "challenges.new_problem",
             "api.report_problem", "challenges.confirm", "api.confirm_problem", "challenges.claim", "api.claim_quest",
             "challenges.submit", "api.submit_evidence", "accounts.tokens", "api.create_token", "moderation.flag"}
    assert named <= set(ratelimits.LIMITS)


def test_deleting_an_account_keeps_the_audit_rows_as_they_were(client, login):
    from accounts.mydata import delete_account

    admin, person = make_user(role="admin"), make_user()
    problem = make_problem(make_user())
    login(person)
    flag(client, "problem", problem.id)
    login(admin)
    client.post(f"/admin/users/{person.id}/role", data={f"u{person.id}-role": "organiser"})
    before = db.session.execute(select(AuditEntry.id, AuditEntry.actor_id, AuditEntry.object_id)).all()
    delete_account(db.session, actor=db.session.get(User, admin.id), password=PASSWORD)
    db.session.commit()
    assert db.session.execute(select(AuditEntry.id, AuditEntry.actor_id, AuditEntry.object_id)).all() == before
    assert "deleted account #" in (login(make_user(role="admin")).get("/admin/audit").get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(Flag)) == 1


def test_the_admin_users_page_links_to_suspending(client, login):
    person = make_user()
    login(make_user(role="admin"))
    assert f"/admin/users/{person.id}/suspend" in client.get("/admin/users").get_data(as_text=True)
    assert client.get(f"/admin/users/{person.id}/suspend").status_code == 200


def test_a_hidden_update_leaves_followers_inboxes_and_a_held_one_reaches_them_when_released(app, client, login):
    from tests.notifications.helpers import drain

    organiser, follower = make_organiser(), make_user()
    problem = make_problem(make_user())
    login(follower)
    client.post(f"/problems/{problem.id}/subscribe", data={})
    login(organiser)
    client.post(f"/problems/{problem.id}/comments", data={"body": "Vandals again, sadly"})
    app.config["MODERATION_WORDS"] = ("snarf",)
    client.post(f"/problems/{problem.id}/comments", data={"body": "A snarf comment"})
    app.config["MODERATION_WORDS"] = ()
    drain(app)
    login(follower)
    inbox = client.get("/notifications").get_data(as_text=True)
    assert "Vandals again" in inbox and "snarf" not in inbox
    first = db.session.scalar(select(ProblemUpdate.id).where(ProblemUpdate.body == "Vandals again, sadly"))
    held = db.session.scalar(select(ProblemUpdate.id).where(ProblemUpdate.body == "A snarf comment"))
    login(organiser)
    decide(client, "update", first, "hide")
    decide(client, "update", held, "release", reason="")
    drain(app)
    login(follower)
    inbox = client.get("/notifications").get_data(as_text=True)
    assert "Vandals again" not in inbox and "snarf" in inbox


def test_the_flag_page_shows_nothing_its_visitor_may_not_see(client, login):
    organiser, claimant = make_organiser(), make_user()
    claim = make_claim(claimant, make_quest(organiser), submit=True)
    claim.evidence = "Private evidence text"
    db.session.commit()
    hidden = make_problem(make_user(), title="Already hidden report")
    from moderation.services import hide

    hide(db.session, actor=organiser, kind="problem", object_id=hidden.id, reason="x")
    child = make_user(name="Kid Profile")
    child.is_child = True
    db.session.commit()
    login(make_user())
    for kind, object_id in (("evidence", claim.id), ("problem", hidden.id), ("profile", child.id)):
        response = client.get(f"/flag?kind={kind}&id={object_id}")
        assert response.status_code == 404
        assert flag(client, kind, object_id).status_code == 404
    assert "Private evidence text" not in client.get(f"/flag?kind=evidence&id={claim.id}").get_data(as_text=True)
    login(organiser)
    assert "Private evidence text" in client.get(f"/flag?kind=evidence&id={claim.id}").get_data(as_text=True)


def test_a_hidden_profiles_name_leaves_its_public_posts(client, login):
    person = make_user(name="Snide Sid")
    problem = make_problem(person, title="Pothole on Snide Street")
    login(make_organiser())
    decide(client, "profile", person.id, "hide", reason="Offensive name")
    with client.session_transaction() as sess:
        sess.clear()
    for url in (f"/problems/{problem.id}", "/feeds/problems.atom", f"/feeds/problems/{problem.id}.atom"):
        body = client.get(url).get_data(as_text=True)
        assert "Pothole on Snide Street" in body and "Snide Sid" not in body, url


def test_the_api_tells_a_reporter_their_problem_awaits_review(app, client):
    app.config["MODERATION_WORDS"] = ("blorp",)
    response = client.post("/api/v1/problems", headers=auth(make_user()),
                           json={**REPORT, "title": "Blorp bench", "lat": 51.45, "lon": -2.58})
    app.config["MODERATION_WORDS"] = ()
    assert response.status_code == 201 and response.get_json()["awaiting_review"] is True
    assert client.get(f"/api/v1/problems/{response.get_json()['id']}").status_code == 404


def test_the_suspend_page_names_a_child_only_to_their_teacher(client, login):
    from tests.childsafe.helpers import make_class

    teacher, team, (child,) = make_class(None, "Perpetua Nightingale")
    login(make_user(role="admin"))
    page = client.get(f"/admin/users/{child.id}/suspend").get_data(as_text=True)
    assert "Suspend a pupil" in page and "Nightingale" not in page


def test_an_admin_who_is_not_the_teacher_never_reads_a_childs_name_in_a_message(client, login):
    from tests.childsafe.helpers import make_class

    teacher, team, (child,) = make_class(None, "Perpetua Nightingale")
    login(make_user(role="admin"))
    saved = client.post(f"/admin/users/{child.id}/role", data={"u{}-role".format(child.id): "participant"},
                        follow_redirects=True).get_data(as_text=True)
    assert "a pupil is now participant" in saved and "Nightingale" not in saved
    lifted = client.post(f"/admin/users/{child.id}/lift", data={"reason": "Mistake"}, follow_redirects=True)
    assert "This account is not suspended." in lifted.get_data(as_text=True)
    assert "Nightingale" not in lifted.get_data(as_text=True)
    answer = client.post(f"/api/v1/admin/users/{child.id}/lift", json={}, headers=auth(make_user(role="admin")))
    assert answer.status_code == 409 and "Nightingale" not in answer.get_data(as_text=True)


def test_a_moderators_data_download_keeps_out_the_notes_of_flags_they_closed(app, client, login):
    from tests.childsafe.helpers import make_class

    teacher, team, (child,) = make_class(None, "Perpetua Nightingale")
    login(teacher)
    assert flag(client, "profile", child.id, text="Perpetua Nightingale's name is rude").status_code == 302
    moderator = make_organiser(name="Other Organiser")
    login(moderator)
    assert decide(client, "profile", child.id, "dismiss", reason="Fine").status_code == 302
    data = client.get("/account/data.json").get_json()
    closed = data["flags_closed_as_moderator"]
    assert [row["status"] for row in closed] == ["dismissed"]
    assert "Nightingale" not in client.get("/account/data.json").get_data(as_text=True)
    assert "text" not in closed[0] and "reporter_id" not in closed[0]
    login(teacher)  # the flagger's own download keeps what they wrote
    assert "Perpetua Nightingale's name is rude" in client.get("/account/data.json").get_data(as_text=True)
