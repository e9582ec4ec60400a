"""Webhooks through the API, as on the webhook pages: organisers and admins only, your own
webhooks (an admin: all), the same SSRF check, the signing secret only in the answers that
make it, the delivery log, a test ping, enabling again, deleting; admins allow private
addresses."""
from __future__ import annotations

import ipaddress
import time

import pytest
from sqlalchemy import func, select

from accounts.models import Role
from accounts.services import issue_token
from extensions import db
from notifications.jobs import work_off
from tests.api import auth, error_of
from tests.factories import make_organiser, make_user
from tests.webhooks.helpers import body_of, make_webhook, secret
from tests.webhooks.receiver import Receiver
from timeutil import utcnow
from webhooks import services, signing
from webhooks.models import Webhook, WebhookDelivery

HOOK = {"url": "https://hooks.example.org/fixquest", "events": ["problem.created", "claim.approved"],
        "description": "Council CRM"}


def without_dns(monkeypatch) -> None:
    """Host names "resolve" to a public address without asking DNS; literal addresses stay as
    written, so the SSRF check still refuses http://127.0.0.1/ and the like."""
    real = services.ssrf.system_resolver

    def resolve(host: str, port: int) -> list[str]:
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return ["93.184.216.34"]
        return real(host, port)

    monkeypatch.setattr(services.ssrf, "system_resolver", resolve)


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    without_dns(monkeypatch)


def read_only(user) -> dict[str, str]:
    token = issue_token(db.session, user=user, name="reader", scope="read")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def fresh(webhook_id: int) -> Webhook | None:
    db.session.expire_all()
    return db.session.get(Webhook, webhook_id)


def count_webhooks() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Webhook))


def test_an_organiser_registers_a_webhook_and_gets_its_secret_once(client):
    organiser = make_organiser(name="Olu Organiser")
    headers = auth(organiser)
    response = client.post("/api/v1/webhooks", json=HOOK, headers=headers)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    webhook = fresh(body["id"])
    assert body["secret"] == secret(webhook)
    assert body["events"] == ["claim.approved", "problem.created"] and body["enabled"] is True
    assert body["owner"] == {"id": organiser.id, "name": "Olu Organiser"} and body["allow_private"] is False
    shown = client.get(response.headers["Location"], headers=headers)
    assert shown.status_code == 200 and shown.get_json()["deliveries"] == []
    listed = client.get("/api/v1/webhooks", headers=headers)
    for later in (shown, listed):
        assert secret(webhook) not in later.get_data(as_text=True) and "secret_salt" not in later.get_data(as_text=True)
    assert [w["url"] for w in listed.get_json()["items"]] == [HOOK["url"]]
    assert organiser.email not in response.get_data(as_text=True)


def test_unsafe_urls_and_bad_events_are_422_naming_the_fields(client):
    headers = auth(make_organiser())
    loopback = client.post("/api/v1/webhooks", json={**HOOK, "url": "http://127.0.0.1:8000/hook"}, headers=headers)
    assert loopback.status_code == 422 and "loopback" in error_of(loopback)["fields"]["url"][0]
    metadata = client.post("/api/v1/webhooks", json={**HOOK, "url": "http://169.254.169.254/"}, headers=headers)
    assert metadata.status_code == 422 and list(error_of(metadata)["fields"]) == ["url"]
    ftp = client.post("/api/v1/webhooks", json={**HOOK, "url": "ftp://example.org/x"}, headers=headers)
    assert ftp.status_code == 422 and "http" in error_of(ftp)["fields"]["url"][0]
    events = client.post("/api/v1/webhooks", json={**HOOK, "events": ["problem.deleted"]}, headers=headers)
    assert events.status_code == 422 and list(error_of(events)["fields"]) == ["events"]
    empty = client.post("/api/v1/webhooks", json={"url": HOOK["url"], "events": []}, headers=headers)
    assert empty.status_code == 422 and list(error_of(empty)["fields"]) == ["events"]
    shape = client.post("/api/v1/webhooks", json={"url": 7, "events": "problem.created"}, headers=headers)
    assert shape.status_code == 422 and set(error_of(shape)["fields"]) == {"url", "events"}
    assert count_webhooks() == 0


def test_only_admins_allow_private_addresses(client):
    organiser, admin = make_organiser(), make_user(role=Role.admin)
    private = {**HOOK, "url": "http://127.0.0.1:9/hook", "allow_private": True}
    refused = client.post("/api/v1/webhooks", json=private, headers=auth(organiser))
    assert refused.status_code == 403 and count_webhooks() == 0
    made = client.post("/api/v1/webhooks", json=private, headers=auth(admin))
    assert made.status_code == 201 and made.get_json()["allow_private"] is True
    webhook_id = made.get_json()["id"]
    own = client.post("/api/v1/webhooks", json=HOOK, headers=auth(organiser)).get_json()["id"]
    assert client.post(f"/api/v1/webhooks/{own}/allow-private", json={"allow_private": True},
                       headers=auth(organiser)).status_code == 403
    assert fresh(own).allow_private is False
    turned_off = client.post(f"/api/v1/webhooks/{webhook_id}/allow-private", json={"allow_private": False},
                             headers=auth(admin))
    assert turned_off.status_code == 200 and turned_off.get_json()["allow_private"] is False
    missing = client.post(f"/api/v1/webhooks/{webhook_id}/allow-private", json={}, headers=auth(admin))
    assert missing.status_code == 422 and list(error_of(missing)["fields"]) == ["allow_private"]


def test_participants_are_refused_and_another_organisers_webhook_is_404(client):
    owner = make_organiser()
    webhook = make_webhook(owner, "https://hooks.example.org/a", allow_private=False)
    participant = auth(make_user())
    assert client.get("/api/v1/webhooks", headers=participant).status_code == 403
    refused = client.post("/api/v1/webhooks", json=HOOK, headers=participant)
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    assert client.get(f"/api/v1/webhooks/{webhook.id}", headers=participant).status_code == 403
    stranger = auth(make_organiser())
    assert client.get("/api/v1/webhooks", headers=stranger).get_json()["total"] == 0
    for method, action in (("get", ""), ("delete", ""), ("post", "/secret"), ("post", "/ping"),
                           ("post", "/enable")):
        response = getattr(client, method)(f"/api/v1/webhooks/{webhook.id}{action}", headers=stranger)
        assert response.status_code == 404, (method, action)
        assert secret(webhook) not in response.get_data(as_text=True)
    assert fresh(webhook.id) is not None and fresh(webhook.id).secret_salt == webhook.secret_salt
    admin = auth(make_user(role=Role.admin))
    assert client.get(f"/api/v1/webhooks/{webhook.id}", headers=admin).status_code == 200
    assert client.get("/api/v1/webhooks", headers=admin).get_json()["total"] == 1
    assert client.get("/api/v1/webhooks/999999", headers=auth(owner)).status_code == 404


def test_webhook_routes_need_a_token_and_changes_a_write_token(client):
    owner = make_organiser()
    webhook = make_webhook(owner, "https://hooks.example.org/a", allow_private=False)
    assert client.get("/api/v1/webhooks").status_code == 401
    assert client.post("/api/v1/webhooks", json=HOOK).status_code == 401
    assert client.post(f"/api/v1/webhooks/{webhook.id}/secret").status_code == 401
    reader = read_only(owner)
    assert client.get(f"/api/v1/webhooks/{webhook.id}", headers=reader).status_code == 200
    for method, action in (("delete", ""), ("post", "/secret"), ("post", "/ping"), ("post", "/enable")):
        response = getattr(client, method)(f"/api/v1/webhooks/{webhook.id}{action}", headers=reader)
        assert response.status_code == 403 and error_of(response)["code"] == "insufficient_scope"
    assert client.post("/api/v1/webhooks", json=HOOK, headers=reader).status_code == 403
    assert count_webhooks() == 1 and fresh(webhook.id).secret_salt == webhook.secret_salt


def test_a_new_secret_is_shown_once_and_the_old_one_stops(client):
    owner = make_organiser()
    webhook = make_webhook(owner, "https://hooks.example.org/a", allow_private=False)
    old = secret(webhook)
    response = client.post(f"/api/v1/webhooks/{webhook.id}/secret", headers=auth(owner))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    new = response.get_json()["secret"]
    assert new != old and new == secret(fresh(webhook.id))
    assert new not in client.get(f"/api/v1/webhooks/{webhook.id}", headers=auth(owner)).get_data(as_text=True)


def test_a_test_ping_is_delivered_and_shows_in_the_log(client, app):
    admin = make_user(role=Role.admin)
    with Receiver() as receiver:
        webhook = make_webhook(admin, receiver.url())
        headers = auth(admin)
        queued = client.post(f"/api/v1/webhooks/{webhook.id}/ping", headers=headers)
        assert queued.status_code == 200
        assert queued.get_json()["event"] == "ping" and queued.get_json()["state"] == "pending"
        work_off(app)
        [request] = receiver.requests
    assert body_of(request)["data"]["webhook_id"] == webhook.id
    signing.verify(secret(webhook), request.headers["FixQuest-Signature"], request.body, now=time.time())
    [logged] = client.get(f"/api/v1/webhooks/{webhook.id}", headers=headers).get_json()["deliveries"]
    assert logged["id"] == queued.get_json()["id"] and logged["state"] == "delivered"
    assert logged["attempts"][0]["status_code"] == 200 and logged["next_attempt_at"] is None


def test_enabling_a_disabled_webhook_and_enabling_twice(client):
    owner = make_organiser()
    webhook = make_webhook(owner, "https://hooks.example.org/a", allow_private=False)
    headers = auth(owner)
    already = client.post(f"/api/v1/webhooks/{webhook.id}/enable", headers=headers)
    assert already.status_code == 409 and error_of(already)["code"] == "conflict"
    webhook = fresh(webhook.id)
    webhook.disabled_at, webhook.disabled_reason, webhook.consecutive_failures = utcnow(), "Failed 5 times", 5
    db.session.commit()
    shown = client.get(f"/api/v1/webhooks/{webhook.id}", headers=headers).get_json()
    assert shown["enabled"] is False and shown["disabled_reason"] == "Failed 5 times"
    enabled = client.post(f"/api/v1/webhooks/{webhook.id}/enable", headers=headers)
    assert enabled.status_code == 200 and enabled.get_json()["enabled"] is True
    assert fresh(webhook.id).consecutive_failures == 0


def test_deleting_a_webhook_removes_its_log(client):
    owner = make_organiser()
    webhook_id = make_webhook(owner, "https://hooks.example.org/a", allow_private=False).id
    headers = auth(owner)
    assert client.post(f"/api/v1/webhooks/{webhook_id}/ping", headers=headers).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
    deleted = client.delete(f"/api/v1/webhooks/{webhook_id}", headers=headers)
    assert deleted.status_code == 200 and deleted.get_json() == {"id": webhook_id, "deleted": True}
    assert fresh(webhook_id) is None
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    assert client.delete(f"/api/v1/webhooks/{webhook_id}", headers=headers).status_code == 404


def test_too_many_webhooks_is_409(client):
    owner = make_organiser()
    for n in range(services.MAX_PER_OWNER):
        make_webhook(owner, f"https://hooks.example.org/{n}", allow_private=False)
    response = client.post("/api/v1/webhooks", json=HOOK, headers=auth(owner))
    assert response.status_code == 409 and error_of(response)["code"] == "too_many_webhooks"
