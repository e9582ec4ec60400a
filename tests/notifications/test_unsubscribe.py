"""One-click unsubscribe links: signed, expiring, no login, RFC 8058 POST; and the
settings page's delivery choice and unsubscribe buttons."""
from __future__ import annotations

import time
import types
from dataclasses import dataclass

import itsdangerous.timed
from sqlalchemy import select

from accounts.models import User
from challenges.models import Problem, Subscription
from extensions import db
from notifications import tokens
from notifications.models import Notification
from notifications.services import fan_out
from tests.factories import make_organiser, make_user
from tests.notifications.helpers import add_problem, add_update, follow, rows


@dataclass
class Followed:
    """Ids only: the views under test delete rows the test session may hold."""
    organiser: User
    ann: User
    problem_id: int
    sub_id: int

    def token(self, app, user_id: int | None = None) -> str:
        return tokens.make_token(app.config["SECRET_KEY"], user_id=user_id or self.ann.id,
                                 subscription_id=self.sub_id)


def _followed(delivery: str = "immediate") -> Followed:
    organiser, ann = make_organiser(), make_user()
    problem = add_problem(organiser, subscribers_count=1)
    sub = follow(ann, problem, delivery=delivery)
    return Followed(organiser, ann, problem.id, sub.id)


def _subscription(sub_id: int) -> Subscription | None:
    db.session.expire_all()
    return db.session.get(Subscription, sub_id)


def _subscribers_count(problem_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Problem, problem_id).subscribers_count


def _fanned_out_update(f: Followed) -> None:
    entry = add_update(db.session.get(Problem, f.problem_id), f.organiser, publish_it=False)
    fan_out(db.session, update_id=entry.id)
    db.session.commit()


def test_the_link_asks_first_and_a_get_changes_nothing(app, client):
    f = _followed()

    page = client.get(f"/unsubscribe/{f.token(app)}")

    assert page.status_code == 200
    assert "Pothole on Broad Street" in page.text and '<form method="post"' in page.text
    assert _subscription(f.sub_id) is not None


def test_posting_the_link_unsubscribes_without_login_or_csrf(app, client):
    f = _followed()
    _fanned_out_update(f)

    # What a mail client sends for RFC 8058 one-click: no cookies, no CSRF token.
    answer = client.post(f"/unsubscribe/{f.token(app)}", data={"List-Unsubscribe": "One-Click"}, csrf=False)

    assert answer.status_code == 200 and "Unsubscribed" in answer.text
    assert _subscription(f.sub_id) is None
    assert _subscribers_count(f.problem_id) == 0
    [email] = rows(channel="email")
    assert (email.state, email.subscription_id) == ("cancelled", None)  # never sent after all


def test_unsubscribing_twice_counts_once(app, client):
    f = _followed()
    token = f.token(app)

    client.post(f"/unsubscribe/{token}", csrf=False)
    again = client.post(f"/unsubscribe/{token}", csrf=False)

    assert again.status_code == 200 and "Already unsubscribed" in again.text
    assert _subscribers_count(f.problem_id) == 0


def test_a_tampered_link_gets_a_clear_400_page(app, client):
    f = _followed()
    token = f.token(app)
    rest = token.split(".", 1)[1]
    other_payload = tokens.make_token(app.config["SECRET_KEY"], user_id=f.ann.id,
                                      subscription_id=f.sub_id + 1).split(".", 1)[0]
    head, signature = token.rsplit(".", 1)
    flipped = f"{head}.{signature[:5]}{'A' if signature[5] != 'A' else 'B'}{signature[6:]}"

    for bad in (flipped, "not-a-token", f"{other_payload}.{rest}", token[: len(token) // 2]):
        assert client.get(f"/unsubscribe/{bad}").status_code == 400
        answer = client.post(f"/unsubscribe/{bad}", csrf=False)
        assert answer.status_code == 400 and "not valid" in answer.text
    assert _subscription(f.sub_id) is not None


def test_a_value_signed_for_another_purpose_is_refused(app, client):
    f = _followed()
    csrf_like = itsdangerous.URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token").dumps(
        {"u": f.ann.id, "s": f.sub_id})
    assert client.post(f"/unsubscribe/{csrf_like}", csrf=False).status_code == 400
    assert _subscription(f.sub_id) is not None


def test_an_expired_link_gets_a_clear_400_page(app, client, monkeypatch):
    f = _followed()
    token = f.token(app)
    later = time.time() + (app.config["UNSUBSCRIBE_MAX_AGE_DAYS"] + 1) * 86400
    monkeypatch.setattr(itsdangerous.timed, "time", types.SimpleNamespace(time=lambda: later))

    answer = client.post(f"/unsubscribe/{token}", csrf=False)

    assert answer.status_code == 400 and "expired" in answer.text
    assert _subscription(f.sub_id) is not None


def test_a_link_naming_someone_elses_subscription_removes_nothing(app, client):
    f = _followed()
    bob = make_user()

    answer = client.post(f"/unsubscribe/{f.token(app, user_id=bob.id)}", csrf=False)

    assert "Already unsubscribed" in answer.text
    assert _subscription(f.sub_id) is not None


def test_the_digest_link_stops_digest_emails_but_keeps_in_app(app, client):
    f = _followed(delivery="digest")
    _fanned_out_update(f)
    token = tokens.make_token(app.config["SECRET_KEY"], user_id=f.ann.id, subscription_id=None)

    assert "Stop the digest" in client.get(f"/unsubscribe/{token}").text
    answer = client.post(f"/unsubscribe/{token}", csrf=False)

    assert "No more digest emails" in answer.text
    assert _subscription(f.sub_id).delivery == "in_app"
    assert {(n.channel, n.state) for n in rows()} == {("in_app", "sent"), ("email", "cancelled")}


def test_settings_change_how_each_subscription_is_delivered(client, login):
    f = _followed()
    login(f.ann)

    page = client.get("/notifications/settings")
    changed = client.post(f"/notifications/settings/{f.sub_id}", data={f"s{f.sub_id}-delivery": "digest"})
    refused = client.post(f"/notifications/settings/{f.sub_id}", data={f"s{f.sub_id}-delivery": "pigeon"})

    assert page.status_code == 200 and "Pothole on Broad Street" in page.text
    assert changed.status_code == 302 and refused.status_code == 302
    assert _subscription(f.sub_id).delivery == "digest"


def test_settings_unsubscribe_button_removes_only_your_own(client, login):
    f = _followed()
    login(make_user())
    assert client.post(f"/notifications/settings/{f.sub_id}/unsubscribe", data={}).status_code == 404
    assert client.post(f"/notifications/settings/{f.sub_id}",
                       data={f"s{f.sub_id}-delivery": "digest"}).status_code == 404

    login(f.ann)
    assert client.post(f"/notifications/settings/{f.sub_id}/unsubscribe", data={}).status_code == 302
    assert _subscription(f.sub_id) is None
    assert _subscribers_count(f.problem_id) == 0


def test_settings_forms_need_csrf(client, login):
    f = _followed()
    login(f.ann)
    assert client.post(f"/notifications/settings/{f.sub_id}/unsubscribe", data={}, csrf=False).status_code == 400
    assert _subscription(f.sub_id) is not None
    assert db.session.scalar(select(Notification)) is None
