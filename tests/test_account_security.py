"""Password reset by a signed, single-use, expiring link; sessions that really end; and
email verification before reporting more than a few problems."""
from __future__ import annotations

import re

import pytest
from itsdangerous import URLSafeTimedSerializer

from accounts import services as accounts
from accounts.models import User
from challenges.models import Problem
from extensions import db
from notifications.jobs import work_off
from tests.factories import PASSWORD, make_user
from tests.notifications.helpers import RecordingSender

NEW_PASSWORD = "a-brand-new-passphrase"


@pytest.fixture
def outbox(app, monkeypatch) -> RecordingSender:
    sender = RecordingSender()
    monkeypatch.setitem(app.extensions, "fixquest.mail", sender)
    return sender


def ask_for_reset(client, app, email: str) -> str:
    response = client.post("/password/forgot", data={"email": email})
    assert response.status_code == 302
    work_off(app)
    return response


def link_in(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://\S+/password/reset/\S+", text).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_a_reset_link_is_emailed_and_sets_a_new_password(client, app, outbox):
    user = make_user(email="sam@example.org")
    ask_for_reset(client, app, "Sam@Example.org ")
    [message] = outbox.messages
    assert message["To"] == "sam@example.org"
    assert "List-Unsubscribe" not in message  # account mail, not a list
    page = client.get(path_of(link_in(message)))
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    done = client.post(path_of(link_in(message)), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    db.session.expire_all()
    assert accounts.authenticate(db.session, email="sam@example.org", password=NEW_PASSWORD,
                                 hash_method=app.config["PASSWORD_HASH_METHOD"]).id == user.id


def test_the_answer_is_the_same_for_an_unknown_address_and_nothing_is_sent(client, app, outbox):
    make_user(email="sam@example.org")
    known = client.post("/password/forgot", data={"email": "sam@example.org"}, follow_redirects=True)
    unknown = client.post("/password/forgot", data={"email": "nobody@example.org"}, follow_redirects=True)
    work_off(app)
    assert len(outbox.messages) == 1
    flash = re.compile(r"If an account uses that address[^<]*")
    assert flash.search(known.get_data(as_text=True)).group(0) == flash.search(unknown.get_data(as_text=True)).group(0)


def test_a_link_works_once(client, app, outbox):
    make_user(email="sam@example.org")
    ask_for_reset(client, app, "sam@example.org")
    path = path_of(link_in(outbox.messages[0]))
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    again = client.post(path, data={"password": "yet-another-passphrase", "confirm": "yet-another-passphrase"})
    assert again.status_code == 400
    assert "expired or has been used" in again.get_data(as_text=True)
    db.session.expire_all()
    assert accounts.authenticate(db.session, email="sam@example.org", password=NEW_PASSWORD,
                                 hash_method=app.config["PASSWORD_HASH_METHOD"])


def test_an_expired_or_forged_link_changes_nothing(client, app, ctx):
    user = make_user(email="sam@example.org")
    before = user.password_hash
    forged = URLSafeTimedSerializer("not-our-secret", salt=accounts.RESET_SALT).dumps({"u": user.id, "f": "x"})
    expired = accounts.password_reset_token(user, secret_key=app.config["SECRET_KEY"])
    app.config["PASSWORD_RESET_MAX_AGE_S"], saved = -1, app.config["PASSWORD_RESET_MAX_AGE_S"]
    try:
        assert client.get(f"/password/reset/{expired}").status_code == 400
    finally:
        app.config["PASSWORD_RESET_MAX_AGE_S"] = saved
    for token in (forged, "nonsense", "x" * 3000):
        response = client.post(f"/password/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == before


def test_a_short_or_mismatched_new_password_is_refused_beside_the_field(client, app, ctx):
    user = make_user(email="sam@example.org")
    token = accounts.password_reset_token(user, secret_key=app.config["SECRET_KEY"])
    short = client.post(f"/password/reset/{token}", data={"password": "short", "confirm": "short"})
    assert short.status_code == 422 and "at least 10" in short.get_data(as_text=True).lower()
    mismatch = client.post(f"/password/reset/{token}", data={"password": NEW_PASSWORD, "confirm": "other-passphrase"})
    assert mismatch.status_code == 422 and "do not match" in mismatch.get_data(as_text=True)


def test_a_reset_ends_every_other_session(app, ctx, outbox):
    user = make_user(email="sam@example.org")
    thief = app.test_client()
    with thief.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
    assert thief.get("/notifications").status_code == 200
    token = accounts.password_reset_token(user, secret_key=app.config["SECRET_KEY"])
    app.test_client().post(f"/password/reset/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert thief.get("/notifications").status_code == 302  # off to the login page


def test_logging_out_ends_the_session_even_for_a_copied_cookie(client, login, app, ctx):
    user = make_user()
    login(user)
    copy = app.test_client()
    with client.session_transaction() as sess:
        stolen = dict(sess)
    with copy.session_transaction() as sess:
        sess.update(stolen)
    assert copy.get("/notifications").status_code == 200
    assert client.post("/logout", data={}).status_code == 302
    assert copy.get("/notifications").status_code == 302


def test_a_session_naming_no_epoch_or_nonsense_is_nobody(app, ctx):
    user = make_user()
    for value in (str(user.id), f"{user.id}.x", "1" * 40, f"{user.id}.{user.session_epoch + 1}"):
        visitor = app.test_client()
        with visitor.session_transaction() as sess:
            sess["_user_id"] = value
        assert visitor.get("/notifications").status_code == 302, value


def test_logging_in_still_works_after_a_logout(client, app, ctx):
    make_user(email="sam@example.org")
    client.post("/login", data={"email": "sam@example.org", "password": PASSWORD})
    client.post("/logout", data={})
    client.post("/login", data={"email": "sam@example.org", "password": PASSWORD})
    assert client.get("/notifications").status_code == 200


# --- email verification ----------------------------------------------------------------------

def report(client, n: int):
    return client.post("/problems/new", data={
        "title": f"Broken bench number {n}", "description": "Two slats are missing.", "category": "other",
        "lat": str(51.45 + n / 100), "lon": "-2.58", "address": "", "checked_nearby": "1"})


def test_a_new_account_is_sent_a_link_and_the_button_confirms_it(client, app, outbox):
    client.post("/register", data={"display_name": "Robin", "email": "robin@example.org",
                                   "password": "a-long-enough-pass", "confirm": "a-long-enough-pass"})
    work_off(app)
    [message] = outbox.messages
    path = path_of(re.search(r"http://\S+/account/verify/\S+", message.get_body(("plain",)).get_content()).group(0))
    assert client.get(path).status_code == 200  # a scanner opening the link confirms nothing
    user = db.session.scalar(db.select(User).where(User.email == "robin@example.org"))
    assert user.email_verified_at is None
    assert client.post(path, data={}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).email_verified_at is not None


def test_an_unconfirmed_participant_reports_a_few_problems_then_is_asked_to_confirm(client, login, app, ctx):
    user = make_user(verified=False)
    login(user)
    limit = app.config["UNVERIFIED_REPORT_LIMIT"]
    for n in range(limit):
        assert report(client, n).status_code == 302
    page = client.get("/problems/new")
    assert page.status_code == 403 and "Confirm your email" in page.get_data(as_text=True)
    refused = report(client, 99)
    assert refused.status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(Problem)) == limit


def test_the_api_refuses_past_the_limit_with_a_json_error(client, app, ctx):
    from tests.api import auth, error_of
    user = make_user(verified=False)
    headers = auth(user)
    body = {"title": "Pothole", "description": "Deep.", "category": "pothole", "lat": 51.45, "lon": -2.58}
    for n in range(app.config["UNVERIFIED_REPORT_LIMIT"]):
        assert client.post("/api/v1/problems", json={**body, "lat": 51.45 + n / 100}, headers=headers).status_code == 201
    refused = client.post("/api/v1/problems", json=body, headers=headers)
    assert refused.status_code == 403 and error_of(refused)["code"] == "email_not_verified"


def test_a_link_for_an_old_address_or_a_forged_one_confirms_nothing(client, app, ctx):
    user = make_user(verified=False, email="old@example.org")
    token = accounts.verify_email_token(user, secret_key=app.config["SECRET_KEY"])
    user.email = "new@example.org"
    db.session.commit()
    assert client.post(f"/account/verify/{token}", data={}).status_code == 400
    assert client.post("/account/verify/garbage", data={}).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id).email_verified_at is None


def test_organisers_and_confirmed_people_are_never_held_back(client, login, app, ctx):
    login(make_user(role="organiser", verified=False))
    for n in range(app.config["UNVERIFIED_REPORT_LIMIT"] + 1):
        assert report(client, n).status_code == 302


def test_asking_for_a_new_link_sends_one(client, login, app, outbox):
    user = make_user(verified=False)
    login(user)
    assert client.post("/account/verify/resend", data={}).status_code == 302
    work_off(app)
    assert [m["To"] for m in outbox.messages] == [user.email]
