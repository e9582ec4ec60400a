"""Registration, login, roles and teams, through the pages and the CLI."""
from __future__ import annotations

import re

from sqlalchemy import select

from accounts.models import Team, TeamMembership, User
from extensions import db
from tests.factories import PASSWORD, make_team, make_user


def register(client, **overrides):
    data = {"display_name": "Tidy Badger", "email": "badger@example.org",
            "password": "litter pickers unite", "confirm": "litter pickers unite"}
    data.update(overrides)
    return client.post("/register", data=data)


def test_register_logs_in_and_hashes_the_password(client):
    response = register(client)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "badger@example.org"))
    assert user.role == "participant"
    assert "litter pickers unite" not in user.password_hash and user.password_hash.startswith("pbkdf2:")
    assert "Tidy Badger" in client.get("/").get_data(as_text=True)


def test_production_hashes_passwords_with_scrypt(app):
    from config import from_environment
    assert from_environment(app.instance_path)["PASSWORD_HASH_METHOD"] == "scrypt"


def test_weak_password_and_bad_email_are_explained_beside_the_fields(client):
    response = register(client, email="nope", password="short", confirm="short")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="email-error"' in page and "Enter an email address" in page
    assert 'id="password-error"' in page and "at least 10 characters" in page
    assert db.session.scalar(select(User)) is None


def test_every_problem_is_shown_at_once(client):
    response = register(client, display_name="A", email="nope", password="short", confirm="other")
    page = response.get_data(as_text=True)
    for field in ("display_name", "email", "password", "confirm"):
        assert f'id="{field}-error"' in page, field


def test_taken_email_is_refused(client):
    make_user(email="taken@example.org")
    response = register(client, email="Taken@Example.org")
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)


def test_forms_need_a_csrf_token(client):
    response = client.post("/register", data={"display_name": "X Y", "email": "a@example.org",
                                               "password": "litter pickers unite",
                                               "confirm": "litter pickers unite"}, csrf=False)
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert db.session.scalar(select(User)) is None


def test_login_wrong_password_then_right_one(client):
    make_user(email="ada@example.org")
    bad = client.post("/login", data={"email": "ada@example.org", "password": "wrong password!"})
    assert bad.status_code == 422 and "do not match" in bad.get_data(as_text=True)
    good = client.post("/login", data={"email": "ADA@example.org", "password": PASSWORD, "next": "/quests"})
    assert good.status_code == 302 and good.headers["Location"] == "/quests"


def test_login_never_redirects_off_site(client):
    make_user(email="ada@example.org")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post("/login", data={"email": "ada@example.org", "password": PASSWORD, "next": target})
        assert response.headers["Location"] == "/", target


def test_logout_is_a_post_and_ends_the_session(client, login):
    login(make_user(name="Quiet Heron"))
    assert client.get("/logout").status_code == 405
    client.post("/logout", data={})
    assert "Quiet Heron" not in client.get("/").get_data(as_text=True)


def test_logged_out_user_is_sent_to_log_in(client):
    response = client.get("/problems/new")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_create_join_and_leave_a_team(client, login):
    captain, member = make_user(), make_user()
    login(captain)
    response = client.post("/teams/new", data={"name": "Riverside Litter Pickers"})
    team = db.session.scalar(select(Team))
    assert response.status_code == 302 and team.captain_id == captain.id
    assert team.join_code in client.get(f"/teams/{team.id}").get_data(as_text=True)

    login(member)
    assert client.post("/teams/join", data={"code": team.join_code.lower()}).status_code == 302
    page = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert member.display_name in page
    assert client.post("/teams/join", data={"code": "NOSUCHCO"}).status_code == 422

    client.post(f"/teams/{team.id}/leave", data={})
    assert db.session.scalar(select(TeamMembership).where(TeamMembership.user_id == member.id)) is None


def test_join_code_is_private_to_members(client, login):
    team = make_team(make_user())
    assert team.join_code not in client.get(f"/teams/{team.id}").get_data(as_text=True)
    login(make_user())
    assert team.join_code not in client.get(f"/teams/{team.id}").get_data(as_text=True)


def test_captain_cannot_leave_without_a_successor_but_can_hand_over(client, login):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    login(captain)
    client.post(f"/teams/{team.id}/leave", data={})
    db.session.expire_all()
    assert db.session.get(Team, team.id).captain_id == captain.id
    client.post(f"/teams/{team.id}/captain", data={"new_captain_id": member.id})
    client.post(f"/teams/{team.id}/leave", data={})
    db.session.expire_all()
    assert db.session.get(Team, team.id).captain_id == member.id


def test_only_admins_change_roles_in_the_web_ui(client, login):
    admin, player = make_user(role="admin"), make_user()
    login(player)
    assert client.get("/admin/users").status_code == 403
    assert client.post(f"/admin/users/{player.id}/role", data={f"u{player.id}-role": "admin"}).status_code == 403
    login(admin)
    assert player.email in client.get("/admin/users").get_data(as_text=True)
    client.post(f"/admin/users/{player.id}/role", data={f"u{player.id}-role": "organiser"})
    db.session.expire_all()
    assert db.session.get(User, player.id).role == "organiser"


def test_cli_creates_users_and_sets_roles(runner, ctx):
    result = runner.invoke(args=["users", "create", "--email", "lead@example.org", "--password",
                                 "volunteer lead 2026", "--name", "Lead Lin", "--role", "organiser"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User.role).where(User.email == "lead@example.org")) == "organiser"
    result = runner.invoke(args=["users", "set-role", "lead@example.org", "admin"])
    assert result.exit_code == 0 and "admin" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(User.role).where(User.email == "lead@example.org")) == "admin"


def test_cli_refuses_taken_email_and_weak_password(runner, ctx):
    make_user(email="taken@example.org")
    taken = runner.invoke(args=["users", "create", "--email", "taken@example.org", "--password",
                                "a fine long password", "--name", "Someone"])
    weak = runner.invoke(args=["users", "create", "--email", "new@example.org", "--password", "12345",
                               "--name", "Someone"])
    unknown = runner.invoke(args=["users", "set-role", "ghost@example.org", "admin"])
    assert taken.exit_code != 0 and "already exists" in taken.output
    assert weak.exit_code != 0 and "at least 10 characters" in weak.output
    assert unknown.exit_code != 0 and "No user" in unknown.output


def test_emails_never_appear_on_public_pages(client, login):
    from tests.factories import approve, make_claim, make_organiser, make_problem, make_quest
    organiser, player = make_organiser(email="organiser@private.example"), make_user(email="kid@private.example")
    team = make_team(player)
    problem = make_problem(player)
    claim = make_claim(player, make_quest(organiser, problem_id=problem.id), submit=True)
    approve(organiser, claim)
    pages = ["/", "/problems", f"/problems/{problem.id}", "/quests", "/teams", f"/teams/{team.id}", "/leaderboards",
             f"/people/{player.id}", f"/people/{organiser.id}", "/map", "/feeds/problems.atom",
             "/api/v1/problems.geojson", f"/feeds/problems/{problem.id}.atom"]
    for url in pages:
        body = client.get(url).get_data(as_text=True)
        assert not re.search(r"[\w.+-]+@private\.example", body), url
