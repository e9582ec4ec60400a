"""Every response carries the security headers; pages need no inline script to work."""
from __future__ import annotations

import re

from app import create_app
from tests.factories import make_organiser, make_problem, make_user
from web import content_security_policy


def test_pages_and_api_carry_a_strict_policy(client, login):
    problem = make_problem(make_user())
    login(make_organiser())
    for url in ["/", "/problems", f"/problems/{problem.id}", "/map", "/quests/new", "/api/v1/problems",
                "/feeds/problems.atom", "/no-such-page"]:
        headers = client.get(url).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy, url
        assert "frame-ancestors 'none'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_no_page_has_inline_script_or_style(client, login):
    problem = make_problem(make_user())
    login(make_organiser())
    for url in ["/", "/problems", f"/problems/{problem.id}", "/map", "/problems/new", "/quests/new", "/leaderboards"]:
        page = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
        assert " style=" not in page and "<style" not in page, url
        assert not re.search(r"\son[a-z]+=", page), url


def test_map_tiles_are_allowed_and_hsts_only_in_production(tmp_path):
    assert "img-src 'self' data: https://tile.openstreetmap.org" in content_security_policy(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert "https://*.tile.example.org" in content_security_policy("https://{s}.tile.example.org/{z}/{x}/{y}.png")
    app = create_app({"FIXQUEST_ENV": "production", "SECRET_KEY": "x" * 48, "AUTO_MIGRATE": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db", "PHOTO_STORAGE": "memory"})
    assert "max-age" in app.test_client().get("/").headers["Strict-Transport-Security"]
