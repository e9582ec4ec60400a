"""The organiser's page: every tool in one place, with what is waiting first."""
from __future__ import annotations

from tests.factories import make_claim, make_organiser, make_quest, make_user


def test_an_organiser_sees_every_tool_and_the_claims_waiting(client, login, ctx):
    organiser = make_organiser()
    make_claim(make_user(), make_quest(organiser), submit=True)
    login(organiser)
    page = client.get("/organise").get_data(as_text=True)
    assert "1 waiting for your decision" in page
    for target in ("/review", "/moderation", "/quests/new", "/classes", "/events/new", "/campaigns/new", "/webhooks"):
        assert f'href="{target}' in page, target
    assert "/admin/users" not in page
    assert 'href="/organise"' in client.get("/").get_data(as_text=True)


def test_an_admin_also_finds_users_and_roles(client, login, ctx):
    login(make_user(role="admin"))
    assert "/admin/users" in client.get("/organise").get_data(as_text=True)


def test_participants_and_visitors_are_kept_out(client, login, ctx):
    assert client.get("/organise").status_code == 302
    login(make_user())
    assert client.get("/organise").status_code == 403
    assert 'href="/organise"' not in client.get("/").get_data(as_text=True)
