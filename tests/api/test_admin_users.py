"""The admins' list of accounts through the API (GET /api/v1/admin/users and
/admin/users/<id>): the users page's list, through the same service, with its filters;
emails for admins only and never a child's; a child's name only to their teacher."""
from __future__ import annotations

from sqlalchemy import select

from accounts.models import User
from extensions import db
from moderation import suspension
from tests.api import auth, error_of
from tests.api.test_moderation import read_auth
from tests.childsafe.helpers import make_class
from tests.factories import make_organiser, make_user

USERS = "/api/v1/admin/users"


def make_admin(**kw) -> User:
    return make_user(role="admin", **kw)


def listed(client, headers, **params) -> list[dict]:
    response = client.get(USERS, headers=headers, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["items"]


def test_an_admin_pages_through_every_account_with_emails_and_suspensions(client):
    admin = make_admin(name="Ada Admin", email="ada@example.org")
    organiser = make_organiser(name="Olu Organiser", email="olu@example.org")
    person = make_user(name="Pat Person", email="pat@example.org")
    suspension.suspend(db.session, actor=admin, user=person, reason="Spamming reports", until=None)
    db.session.commit()
    headers = read_auth(admin)  # a read token does: it only reads
    first = client.get(USERS, headers=headers, query_string={"page_size": 2})
    assert first.status_code == 200 and "no-store" in first.headers["Cache-Control"]
    body = first.get_json()
    assert (body["total"], body["page"], body["prev"]) == (3, 1, None)
    second = client.get(body["next"], headers=headers).get_json()
    items = body["items"] + second["items"]
    assert [(u["id"], u["name"], u["email"], u["role"]) for u in items] == [
        (admin.id, "Ada Admin", "ada@example.org", "admin"),
        (organiser.id, "Olu Organiser", "olu@example.org", "organiser"),
        (person.id, "Pat Person", "pat@example.org", "participant")]
    assert items[2]["suspended"] is True and items[2]["suspension_reason"] == "Spamming reports"
    assert items[0]["suspended"] is False and items[0]["suspended_until"] is None
    assert second["next"] is None
    one = client.get(items[2]["url"], headers=headers)
    assert one.status_code == 200 and one.get_json() == items[2]


def test_search_by_name_or_email_and_filter_by_role(client):
    admin = make_admin(name="Ada Admin")
    make_user(name="Bertha Bramble", email="bb@example.org")
    make_user(name="Cyril", email="bertha.fan@example.org")
    make_organiser(name="Bert Organiser", email="bert@example.org")
    make_user(name="100% Litter Picker", email="lp@example.org")
    headers = auth(admin)
    assert [u["name"] for u in listed(client, headers, q="BERTHA")] == ["Bertha Bramble", "Cyril"]
    assert [u["name"] for u in listed(client, headers, q="bert", role="organiser")] == ["Bert Organiser"]
    assert [u["name"] for u in listed(client, headers, q="0%")] == ["100% Litter Picker"]  # % is a letter here
    assert [u["name"] for u in listed(client, headers, role="admin")] == ["Ada Admin"]
    assert listed(client, headers, q="nobody-at-all") == []
    for params, field in (({"role": "king"}, "role"), ({"q": "x" * 101}, "q"), ({"page_size": "0"}, "page_size")):
        response = client.get(USERS, headers=headers, query_string=params)
        assert response.status_code == 422 and list(error_of(response)["fields"]) == [field]


def test_a_child_is_listed_without_an_email_and_named_only_to_their_teacher(client):
    teacher = make_admin(name="Ms Admin-Teacher")
    _, _, (child,) = make_class(teacher, "Perpetua Nightingale")  # an older child account: it holds a login email
    other_admin = make_admin()
    for admin, name in ((other_admin, "a pupil"), (teacher, "Perpetua Nightingale")):
        response = client.get(USERS, headers=auth(admin))
        [row] = [u for u in response.get_json()["items"] if u["id"] == child.id]
        assert (row["name"], row["email"], row["child"]) == (name, None, True)
        assert child.email not in response.get_data(as_text=True)
        assert client.get(row["url"], headers=auth(admin)).get_json() == row
    assert listed(client, auth(other_admin), q="Nightingale") == []  # a search does not reveal the name
    assert listed(client, auth(other_admin), q=child.email) == []
    assert [u["id"] for u in listed(client, auth(teacher), q="nightingale")] == [child.id]
    assert listed(client, auth(teacher), q=child.email) == []  # a child has no email here, for anyone


def test_only_admins_see_accounts(client):
    person = make_user(email="private.person@example.org")
    for someone in (make_organiser(), make_user(), person):
        for url in (USERS, f"{USERS}/{person.id}", f"{USERS}/999999"):
            refused = client.get(url, headers=auth(someone))
            assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
            assert "private.person" not in refused.get_data(as_text=True)
    for url in (USERS, f"{USERS}/{person.id}"):
        anonymous = client.get(url)
        assert anonymous.status_code == 401 and "private.person" not in anonymous.get_data(as_text=True)
    missing = client.get(f"{USERS}/999999", headers=auth(make_admin()))
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"


def test_the_users_page_lists_what_the_api_lists(client, login):
    admin = make_admin()
    _, _, (child,) = make_class(None, "Perpetua Nightingale")
    make_user(name="Bertha Bramble", email="bb@example.org")
    make_organiser(name="Bert Organiser", email="bert@example.org")
    login(admin)
    page = client.get("/admin/users", query_string={"q": "bert", "role": "organiser"}).get_data(as_text=True)
    assert "Bert Organiser" in page and "bert@example.org" in page and "Bertha" not in page
    everyone = client.get("/admin/users").get_data(as_text=True)
    assert "Bertha Bramble" in everyone and "a pupil" in everyone
    assert "Nightingale" not in everyone and child.email not in everyone  # as the API: no child's name or email
    assert [u["id"] for u in listed(client, auth(admin))] == list(db.session.scalars(select(User.id).order_by(User.id)))
    login(make_organiser())
    assert client.get("/admin/users").status_code == 403
