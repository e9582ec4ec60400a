"""The webhook pages: who may do what, forms that explain refusals, CSRF, the secret."""
from __future__ import annotations

import time

from sqlalchemy import func, select

from accounts.models import Role
from extensions import db
from notifications.jobs import work_off
from tests.factories import make_organiser, make_user
from tests.querycount import counting
from tests.webhooks.helpers import body_of, deliveries, make_webhook, secret
from webhooks import services, signing
from webhooks.models import Webhook


def count_webhooks() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Webhook))


def test_participants_and_strangers_cannot_reach_the_pages(client, login, ctx):
    assert client.get("/webhooks").status_code == 302  # to the login page
    login(make_user())
    assert client.get("/webhooks").status_code == 403
    response = client.post("/webhooks/new", data={"url": "https://example.org/", "events": ["problem.created"]})
    assert response.status_code == 403 and count_webhooks() == 0


def test_an_organiser_registers_a_webhook_and_sees_its_secret_once_on_the_page(client, login, ctx, monkeypatch):
    monkeypatch.setattr(services.ssrf, "system_resolver", lambda host, port: ["93.184.216.34"])
    organiser = make_organiser()
    login(organiser)
    form = client.get("/webhooks/new").get_data(as_text=True)
    assert 'name="events"' in form and "problem.status_changed" in form
    assert "Allow private addresses" not in form  # admins only
    response = client.post("/webhooks/new", data={"url": "https://hooks.example.org/fixquest",
                                                   "description": "Council CRM",
                                                   "events": ["problem.created", "claim.approved"]})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    webhook = db.session.scalars(select(Webhook)).one()
    assert (webhook.owner_id, webhook.url, webhook.event_names, webhook.allow_private) == \
        (organiser.id, "https://hooks.example.org/fixquest", ["claim.approved", "problem.created"], False)
    assert secret(webhook) in response.get_data(as_text=True)
    page = client.get(f"/webhooks/{webhook.id}")
    assert page.status_code == 200 and secret(webhook) not in page.get_data(as_text=True)
    shown = client.post(f"/webhooks/{webhook.id}/secret", data={})
    assert secret(webhook) in shown.get_data(as_text=True) and shown.headers["Cache-Control"] == "no-store"
    assert "hooks.example.org" in client.get("/webhooks").get_data(as_text=True)


def test_unsafe_urls_and_missing_events_are_explained_beside_the_fields(client, login, ctx):
    login(make_organiser())
    response = client.post("/webhooks/new", data={"url": "http://127.0.0.1:8000/hook", "events": []})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "127.0.0.1 is a loopback address" in text
    response = client.post("/webhooks/new", data={"url": "ftp://example.org/x", "events": ["problem.created"]})
    assert "Use an http:// or https:// URL." in response.get_data(as_text=True)
    response = client.post("/webhooks/new", data={"url": "https://example.org/x", "events": ["nonsense"]})
    assert "Unknown event: nonsense." in response.get_data(as_text=True)
    assert count_webhooks() == 0


def test_only_an_admin_may_allow_private_addresses(client, login, ctx, receiver):
    organiser = make_organiser()
    login(organiser)
    response = client.post("/webhooks/new", data={"url": receiver.url(), "events": ["problem.created"],
                                                   "allow_private": "y"})
    assert "only admins do that" in response.get_data(as_text=True) and count_webhooks() == 0

    admin = make_user(role=Role.admin)
    webhook = make_webhook(admin, "https://hooks.example.org/x", allow_private=False)
    mine = services.register(db.session, actor=organiser, url="https://hooks.example.org/y",
                             events=["problem.created"], resolver=lambda h, p: ["93.184.216.34"])
    db.session.commit()
    assert client.post(f"/webhooks/{mine.id}/allow-private", data={"allow_private": "y"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Webhook, mine.id).allow_private is False

    login(admin)
    assert client.post(f"/webhooks/{webhook.id}/allow-private", data={"allow_private": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Webhook, webhook.id).allow_private is True


def test_an_organiser_cannot_see_or_change_anothers_webhook_but_an_admin_can(client, login, ctx):
    owner, other, admin = make_organiser(), make_organiser(), make_user(role=Role.admin)
    webhook = services.register(db.session, actor=owner, url="https://hooks.example.org/x",
                                events=["problem.created"], resolver=lambda h, p: ["93.184.216.34"])
    db.session.commit()
    login(other)
    assert client.get(f"/webhooks/{webhook.id}").status_code == 404
    for action in ("delete", "ping", "secret", "secret/rotate", "enable"):
        assert client.post(f"/webhooks/{webhook.id}/{action}", data={}).status_code == 404, action
    assert "hooks.example.org" not in client.get("/webhooks").get_data(as_text=True)
    assert count_webhooks() == 1 and deliveries() == []
    salt = webhook.secret_salt
    db.session.expire_all()
    assert db.session.get(Webhook, webhook.id).secret_salt == salt

    login(admin)
    assert "hooks.example.org" in client.get("/webhooks").get_data(as_text=True)
    assert client.post(f"/webhooks/{webhook.id}/delete", data={}).status_code == 302
    assert count_webhooks() == 0


def test_state_changes_need_the_csrf_token(client, login, ctx):
    owner = make_organiser()
    webhook = services.register(db.session, actor=owner, url="https://hooks.example.org/x",
                                events=["problem.created"], resolver=lambda h, p: ["93.184.216.34"])
    db.session.commit()
    login(owner)
    for action in ("delete", "ping", "secret/rotate"):
        assert client.post(f"/webhooks/{webhook.id}/{action}", data={}, csrf=False).status_code == 400
    assert client.post("/webhooks/new", data={"url": "https://example.org/", "events": ["problem.created"]},
                       csrf=False).status_code == 400
    assert count_webhooks() == 1 and deliveries() == []


def test_a_test_ping_reaches_the_receiver_and_shows_in_the_log(client, login, ctx, app, receiver):
    admin = make_user(role=Role.admin)
    webhook = make_webhook(admin, receiver.url())
    login(admin)
    assert client.post(f"/webhooks/{webhook.id}/ping", data={}).status_code == 302
    work_off(app)
    [request] = receiver.requests
    assert request.headers["FixQuest-Event"] == "ping"
    assert body_of(request)["data"]["webhook_id"] == webhook.id
    signing.verify(secret(webhook), request.headers["FixQuest-Signature"], request.body, now=time.time())
    page = client.get(f"/webhooks/{webhook.id}").get_data(as_text=True)
    assert "HTTP 200" in page and "delivered" in page


def test_rotating_the_secret_signs_with_the_new_one(client, login, ctx):
    owner = make_organiser()
    webhook = services.register(db.session, actor=owner, url="https://hooks.example.org/x",
                                events=["problem.created"], resolver=lambda h, p: ["93.184.216.34"])
    db.session.commit()
    old = secret(webhook)
    login(owner)
    response = client.post(f"/webhooks/{webhook.id}/secret/rotate", data={})
    db.session.expire_all()
    new = secret(db.session.get(Webhook, webhook.id))
    assert new != old and new in response.get_data(as_text=True) and old not in response.get_data(as_text=True)


def test_the_list_page_reads_webhooks_in_a_few_queries(client, login, ctx, app):
    admin = make_user(role=Role.admin)
    for n in range(8):
        owner = make_organiser()
        services.register(db.session, actor=owner, url=f"https://hooks.example.org/{n}",
                          events=["problem.created", "claim.approved"], resolver=lambda h, p: ["93.184.216.34"])
    db.session.commit()
    login(admin)
    with counting(db.engine) as statements:
        response = client.get("/webhooks")
    assert response.status_code == 200 and response.get_data(as_text=True).count("hooks.example.org/") == 8
    assert len(statements) <= 6, statements


def test_the_delivery_log_reads_in_a_few_queries(client, login, ctx, app):
    owner = make_organiser()
    webhook = services.register(db.session, actor=owner, url="https://hooks.example.org/x",
                                events=["campaign.milestone"], resolver=lambda h, p: ["93.184.216.34"])
    for n in range(10):
        services.emit(db.session, "campaign.milestone", {"reached": n})
    db.session.commit()
    login(owner)
    with counting(db.engine) as statements:
        response = client.get(f"/webhooks/{webhook.id}")
    assert response.status_code == 200 and response.get_data(as_text=True).count("campaign.milestone") >= 10
    assert len(statements) <= 7, statements


def test_an_organiser_has_at_most_twenty_webhooks(ctx):
    import pytest

    owner = make_organiser()
    for n in range(services.MAX_PER_OWNER):
        services.register(db.session, actor=owner, url=f"https://hooks.example.org/{n}",
                          events=["problem.created"], resolver=lambda h, p: ["93.184.216.34"])
    with pytest.raises(services.TooManyWebhooks):
        services.register(db.session, actor=owner, url="https://hooks.example.org/one-more",
                          events=["problem.created"], resolver=lambda h, p: ["93.184.216.34"])
