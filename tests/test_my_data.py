"""Your data (issue 7): download everything FixQuest holds about you; delete your account
while your public contributions and every team total stay."""
from __future__ import annotations

import json
import re

from flask import current_app
from sqlalchemy import func, select

from accounts import kudos
from accounts import mydata
from accounts import services as accounts
from accounts.models import ApiToken, Team, TeamMembership, User
from challenges import tracker
from challenges.models import Claim, Problem, ProblemUpdate
from extensions import db
from notifications.jobs import work_off
from scoring.models import LedgerEntry
from tests.factories import PASSWORD, approve, make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from webhooks.models import Webhook


def as_user(app, user):
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
    return client


def total_points() -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))))


def team_total(team_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                                 .where(LedgerEntry.team_id == team_id)))


def alices_world():
    """Alice reports, confirms, follows, takes quests solo and with Bob's team, gives and
    gets kudos and has an API token."""
    alice = make_user(name="Alice Ames", email="alice@example.org")
    bob = make_user(name="Bob Bright", email="bob@example.org")
    reviewer = make_organiser(name="Rita Reviewer")
    team = make_team(bob, name="Bright Sparks", members=(alice,))
    problem = make_problem(alice, title="Broken bench in Castle Park")
    tracker.confirm(db.session, actor=alice, problem=make_problem(bob, title="Graffiti on the underpass"))
    tracker.comment(db.session, actor=reviewer, problem=problem, body="We will look at it.")
    solo = approve(reviewer, make_claim(alice, make_quest(reviewer, points=30), submit=True,
                                        evidence="Tightened the bench bolts myself."))
    approve(reviewer, make_claim(alice, make_quest(reviewer, points=40, mode="team"), team=team, submit=True))
    bobs = approve(reviewer, make_claim(bob, make_quest(reviewer, points=20), submit=True))
    kudos.give_kudos(db.session, actor=alice, claim=bobs)
    kudos.give_kudos(db.session, actor=bob, claim=solo)
    token = accounts.issue_token(db.session, user=alice, name="my laptop")
    db.session.commit()
    work_off(current_app)  # the comment reaches Alice's in-app notifications
    return alice, bob, reviewer, team, problem, token


# --- the download ----------------------------------------------------------------------------

def test_the_download_holds_what_fixquest_holds_about_me_and_no_secret(app, ctx):
    alice, bob, _, team, problem, token = alices_world()
    response = as_user(app, alice).get("/account/data.json")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    data = json.loads(body)
    assert data["account"]["email"] == "alice@example.org"
    assert data["account"]["display_name"] == "Alice Ames" and data["account"]["role"] == "participant"
    assert data["account"]["email_verified_at"] is not None
    assert [row["team_id"] for row in data["team_memberships"]] == [team.id]
    assert [row["title"] for row in data["problems_reported"]] == ["Broken bench in Castle Park"]
    assert len(data["confirmations"]) == 1
    assert {row["problem_id"] for row in data["subscriptions"]} >= {problem.id}
    assert "Tightened the bench bolts myself." in [row["evidence"] for row in data["claims"]]
    assert sum(row["amount"] for row in data["ledger_entries"]) == total_points_of(alice.id)
    assert [row["name"] for row in data["api_tokens"]] == ["my laptop"]
    assert len(data["kudos_given"]) == 1 and len(data["kudos_received"]) == 1
    assert data["notifications"], "the reviewer's comment reached Alice"
    # Nothing secret, and nobody else's account:
    stored = db.session.get(User, alice.id)
    for secret in (stored.password_hash, token, db.session.scalar(select(ApiToken.token_hash))):
        assert secret not in body
    assert not re.search(r'"(password_hash|token_hash|key_hash|secret_salt)"', body)
    assert "bob@example.org" not in body


def total_points_of(user_id: int) -> int:
    return int(db.session.scalar(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.user_id == user_id)))


def test_an_organisers_download_lists_their_webhooks_without_the_signing_salt(app, ctx):
    organiser = make_organiser()
    db.session.add(Webhook(owner_id=organiser.id, url="https://hooks.example.org/fixquest",
                           description="Council board", secret_salt="s" * 32))
    db.session.commit()
    data = as_user(app, organiser).get("/account/data.json").get_json()
    assert [row["url"] for row in data["webhooks"]] == ["https://hooks.example.org/fixquest"]
    assert "secret_salt" not in data["webhooks"][0] and "s" * 32 not in json.dumps(data)


def test_every_column_naming_a_person_is_exported_or_left_out_for_a_stated_reason(app, ctx):
    """A new table with a users.id foreign key fails here until the export covers it (or
    NOT_EXPORTED says why not)."""
    columns = set(mydata.exported_columns())
    assert not set(mydata.EXPORTED) & set(mydata.NOT_EXPORTED)
    assert columns - set(mydata.EXPORTED) - set(mydata.NOT_EXPORTED) == set(), "add these to EXPORTED or NOT_EXPORTED"
    assert set(mydata.EXPORTED) | set(mydata.NOT_EXPORTED) <= columns, "stale entries"
    assert all(reason.strip() for reason in mydata.NOT_EXPORTED.values())
    # A covered table with a column that looks secret must have it in SECRET_COLUMNS.
    for table, _ in mydata.EXPORTED:
        for column in db.metadata.tables[table].columns:
            if re.search(r"hash|salt|secret(?!_set_at)", column.name):
                assert column.name in mydata.SECRET_COLUMNS, (table, column.name)


def test_the_data_pages_need_a_login_and_show_only_my_own_data(app, ctx):
    alice, bob, *_ = alices_world()
    anonymous = app.test_client()
    for url in ("/account/data", "/account/data.json"):
        assert anonymous.get(url).status_code == 302
    assert anonymous.post("/account/delete", data={"password": PASSWORD}).status_code == 302
    bobs = as_user(app, bob).get("/account/data.json").get_data(as_text=True)
    assert "bob@example.org" in bobs and "alice@example.org" not in bobs and "Tightened the bench" not in bobs
    page = as_user(app, alice).get("/account/data").get_data(as_text=True)
    assert 'href="/account/data.json"' in page and 'for="password"' in page
    assert "a former participant" in page


# --- deleting the account ----------------------------------------------------------------------

def test_deleting_my_account_keeps_my_contributions_and_every_total(app, board):
    alice, bob, _, team, problem, _ = alices_world()
    board.rebuild()
    before = (total_points(), team_total(team.id), board.standing_of("teams", team.id).points)
    bob_points = board.standing_of("participants", bob.id).points
    assert before[1] == before[2] > 0
    client, alice_id = as_user(app, alice), alice.id

    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, alice_id) is None
    assert (total_points(), team_total(team.id), board.standing_of("teams", team.id).points) == before
    assert board.standing_of("participants", bob.id).points == bob_points
    assert board.standing_of("participants", alice_id) is None
    assert not db.session.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.user_id == alice_id))
    # Her problem and fixes stay public, under the stand-in's name:
    stand_in = db.session.get(Problem, problem.id).reporter
    assert stand_in.display_name == mydata.FORMER_PARTICIPANT and stand_in.email is None
    assert stand_in.hidden_from_boards and not stand_in.is_child
    assert db.session.scalar(select(func.count()).select_from(Claim).where(Claim.user_id == stand_in.id)) == 2
    page = app.test_client().get(f"/problems/{problem.id}").get_data(as_text=True)
    assert "Broken bench in Castle Park" in page and "a former participant" in page and "Alice" not in page
    # Her personal rows are gone:
    assert not db.session.scalar(select(func.count()).select_from(ApiToken))
    assert not db.session.scalar(select(func.count()).select_from(TeamMembership)
                                 .where(TeamMembership.user_id.in_([alice_id, stand_in.id])))
    # Her session ended, and she cannot log in again:
    assert client.get("/account/data").status_code == 302
    login = app.test_client().post("/login", data={"email": "alice@example.org", "password": PASSWORD})
    assert login.status_code == 422


def test_a_wrong_password_deletes_nothing(app, ctx):
    alice, *_ = alices_world()
    client = as_user(app, alice)
    response = client.post("/account/delete", data={"password": "not my password at all"})
    assert response.status_code == 422
    assert "That is not your password" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, alice.id).email == "alice@example.org"
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 1
    assert client.get("/account/data").status_code == 200


def test_delete_needs_the_forms_security_token(app, ctx):
    alice, *_ = alices_world()
    response = as_user(app, alice).post("/account/delete", data={"password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert db.session.get(User, alice.id) is not None


def test_nobody_can_delete_someone_elses_account(app, ctx):
    alice, bob, *_ = alices_world()
    # Bob knows Alice's password, but the form only ever deletes the person logged in.
    response = as_user(app, bob).post("/account/delete", data={"password": "wrong for bob"})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, alice.id) is not None and db.session.get(User, bob.id) is not None


def test_a_childs_account_is_deleted_by_their_teacher_not_here(app, ctx):
    child = make_user(name="Clever Fox")
    child.is_child, child.hidden_from_boards, child.email = True, True, None
    db.session.commit()
    client = as_user(app, child)
    assert "Ask your teacher" in client.get("/account/data").get_data(as_text=True)
    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, child.id) is not None


def test_a_captain_with_members_hands_over_first_and_a_lone_captains_team_closes(app, ctx):
    alice, bob, _, team, *_ = alices_world()
    response = as_user(app, bob).post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 409 and "Bright Sparks" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, bob.id) is not None and db.session.get(Team, team.id).captain_id == bob.id

    organiser = make_organiser()
    solo_team = make_team(organiser, name="Just Me")
    db.session.add(Webhook(owner_id=organiser.id, url="https://hooks.example.org/x", secret_salt="t" * 32))
    tracker.comment(db.session, actor=organiser, problem=make_problem(alice), body="Booked for Monday.")
    db.session.commit()
    assert as_user(app, organiser).post("/account/delete", data={"password": PASSWORD}).status_code == 302
    db.session.expire_all()
    closed = db.session.get(Team, solo_team.id)
    assert closed.closed_at is not None and closed.captain.display_name == mydata.FORMER_PARTICIPANT
    assert not db.session.scalar(select(func.count()).select_from(Webhook))
    assert db.session.scalar(select(ProblemUpdate.body).where(ProblemUpdate.body == "Booked for Monday."))


def test_the_api_gives_the_tokens_owner_their_own_data(app, ctx):
    alice, bob, _, _, _, token = alices_world()
    client = app.test_client()
    response = client.get("/api/v1/me/data", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    data = response.get_json()
    assert data["account"]["email"] == "alice@example.org" and "bob@example.org" not in response.get_data(as_text=True)
    assert [row["name"] for row in data["api_tokens"]] == ["my laptop"] and "token_hash" not in data["api_tokens"][0]
    assert client.get("/api/v1/me/data").status_code == 401


def test_guessing_the_password_on_the_delete_form_is_rate_limited(app, ctx, database_url):
    from app import create_app
    from tests.conftest import CsrfClient, app_config

    limited = create_app({**app_config(database_url, None), "AUTO_MIGRATE": False, "RATELIMIT_ENABLED": True,
                          "RATELIMIT_OVERRIDES": {"accounts.delete_account": "2/hour"}})
    limited.test_client_class = CsrfClient
    alice = make_user()
    client = as_user(limited, alice)
    assert [client.post("/account/delete", data={"password": f"guess {n}"}).status_code for n in range(3)] == [
        422, 422, 429]
    assert client.post("/account/delete", data={"password": PASSWORD}).status_code == 429
    db.session.expire_all()
    assert db.session.get(User, alice.id) is not None


def test_a_teacher_deletes_their_class_children_before_their_own_account(app, ctx):
    from classes import services as classes
    from tests.factories import TEST_HASH

    teacher = make_organiser()
    school_class, _ = classes.create_class(db.session, actor=teacher, name="Year 4 Ash", size=2,
                                           secret_kind="password", hash_method=TEST_HASH)
    db.session.commit()
    client = as_user(app, teacher)
    response = client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 409 and "Year 4 Ash" in response.get_data(as_text=True)
    classes.archive_class(db.session, actor=teacher, school_class=school_class)
    erased = classes.delete_children(db.session, actor=teacher, school_class=school_class)
    db.session.commit()
    assert erased.children == 2
    assert client.post("/account/delete", data={"password": PASSWORD}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email.is_not(None))) == 0
