"""The authorisation rules in docs/authorisation.md, checked against the app.

The document lists every state-changing route and who may use it. These tests fail when a
route is missing from it (or listed but gone), when a route not open to anyone lets an
anonymous visitor change something, and when a route for organisers or narrower (a team's
captain, a class's teacher, an event's organisers, a webhook's owner...) lets a plain
participant change something. "Changes nothing" is checked on the whole database: every
row of every table is the same before and after the refused request.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select, text

from accounts.models import ApiToken, TeamInvite
from campaigns import services as campaigns
from classes.services import create_class
from extensions import db
from maps.area import BBox
from tests.api import auth
from tests.events_helpers import make_event
from tests.factories import make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from tests.webhooks.helpers import make_webhook
from timeutil import utcnow

DOC = Path(__file__).resolve().parent.parent / "docs" / "authorisation.md"
CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
ROW = re.compile(r"^\| (?P<endpoint>[a-z_0-9]+\.[a-z_0-9]+) \| (?P<route>[^|]+) \| (?P<who>[^|]+) \|$")
# Who-phrases that let any signed-in person act (on their own things): not checked against a participant.
BROAD = ("signed in", "participants", "token: signed in", "token: participants", "a member", "the token's owner",
         "the notification's recipient", "the subscription's owner", "the claimant", "token: the claimant",
         "anyone", "token: as on the page")
# A body most forms accept, so a refusal is the rule speaking and not a missing field.
FORM = {"title": "Authorisation check", "description": "Checking who may act.", "brief": "Checking.",
        "evidence": "Did it.", "reason": "Checking.", "decision": "approve", "status": "fixed", "note": "Checked.",
        "body": "A comment.", "name": "Authorisation check", "points": "10", "difficulty": "easy", "mode": "solo",
        "evidence_wanted": "A note.", "category": "litter", "lat": "51.45", "lon": "-2.58", "radius_m": "100",
        "scope": "write", "role": "admin", "count": "1", "size": "3", "tokens": "1", "goal": "5",
        "url": "https://example.org/hook", "events": "problem.created", "why": "Because.", "secret_kind": "password",
        "email": "nobody@example.org", "password": "not-the-password", "confirm": "not-the-password",
        "team_id": "1", "new_captain_id": "1", "max_size": "4", "code": "NOPE1234", "delivery": "digest"}


def documented() -> dict[str, str]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            assert match["endpoint"] not in rows, f"{match['endpoint']} is listed twice"
            rows[match["endpoint"]] = match["who"].strip()
    return rows


def changing_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.methods & CHANGING]


def test_every_state_changing_route_is_documented_and_nothing_else(app):
    endpoints = {rule.endpoint for rule in changing_rules(app)}
    rows = documented()
    assert sorted(endpoints - set(rows)) == [], "add these to docs/authorisation.md"
    assert sorted(set(rows) - endpoints) == [], "these are documented but no longer exist"


def snapshot() -> dict[str, list]:
    """Every row of every table (the test town is small)."""
    state = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        state[table.name] = sorted(map(repr, rows))
    return state


@pytest.fixture
def town(app, ctx):
    """One of everything the routes act on, owned by people other than the visitor."""
    organiser, captain, member = make_organiser(), make_user(), make_user()
    team = make_team(captain, members=(member,))
    problem = make_problem(captain)
    quest = make_quest(organiser, problem_id=problem.id)
    claim = make_claim(member, quest, submit=True)
    school_class, _ = create_class(db.session, actor=organiser, name="Class 9", size=1, secret_kind="password",
                                   hash_method=app.config["PASSWORD_HASH_METHOD"])
    event = make_event(organiser)
    campaign = campaigns.create_campaign(db.session, actor=organiser, title="Clean the ward", why="Because.",
                                         area=BBox(min_lon=-2.7, min_lat=51.4, max_lon=-2.5, max_lat=51.5), goal=5,
                                         categories=(), all_categories=app.config["CATEGORIES"],
                                         ends_at=utcnow().replace(year=utcnow().year + 1))
    db.session.commit()
    webhook = make_webhook(organiser, "https://council.example/hook", allow_private=False)
    auth(captain)  # an API token that belongs to someone else
    invite_ids = list(db.session.scalars(select(TeamInvite.id)))
    return {"problem_id": problem.id, "quest_id": quest.id, "claim_id": claim.id, "team_id": team.id,
            "class_id": school_class.id, "event_id": event.id, "campaign_id": campaign.id, "webhook_id": webhook.id,
            "user_id": member.id, "child_id": member.id, "new_captain_id": member.id,
            "token_id": db.session.scalar(select(ApiToken.id)), "invite_id": invite_ids[0] if invite_ids else 1,
            "request_id": 1, "update_id": 1, "hold_id": 1, "alert_id": 1, "notification_id": 1, "subscription_id": 1,
            "decision": "approve", "token": "not-a-token", "fmt": "json", "unknown": "nothing",
            "kind": "problem", "object_id": problem.id, "verdict": "hide", "word_id": 1, "action": "hide"}


def urls(app, values):
    for rule in changing_rules(app):
        args = {}
        for name in rule.arguments:
            assert name in values, f"{rule.rule}: give the authorisation test a value for {name}"
            args[name] = values[name]
        with app.test_request_context():
            path = app.url_map.bind("localhost").build(rule.endpoint, args)
        for method in sorted(rule.methods & CHANGING):
            yield rule.endpoint, method, path


def send(client, method, path, headers=None):
    if path.startswith("/api/"):
        return client.open(path, method=method, json={k: v for k, v in FORM.items()}, headers=headers or {})
    return client.open(path, method=method, data={**FORM, "csrf_token": client.csrf_token()}, headers=headers or {})


def test_no_route_lets_an_anonymous_visitor_change_anything_unless_it_is_open_to_anyone(app, client, town):
    rows, failures = documented(), []
    for endpoint, method, path in urls(app, town):
        if rows[endpoint].startswith("anyone"):
            continue
        before = snapshot()
        response = send(client, method, path)
        db.session.rollback()
        if response.status_code >= 500 or snapshot() != before:
            failures.append(f"{method} {path}: {response.status_code}")
        elif response.status_code < 400 and "/login" not in response.headers.get("Location", ""):
            failures.append(f"{method} {path}: {response.status_code} without sending the visitor to log in")
    assert failures == []


def test_routes_for_organisers_or_narrower_refuse_a_plain_participant(app, client, login, town):
    rows, failures = documented(), []
    visitor = make_user(name="Just A Participant")
    token = auth(visitor)
    login(visitor)
    for endpoint, method, path in urls(app, town):
        if rows[endpoint].startswith(BROAD):
            continue
        before = snapshot()
        response = send(client, method, path, headers=token if path.startswith("/api/") else None)
        db.session.rollback()
        if response.status_code >= 500 or snapshot() != before:
            failures.append(f"{method} {path} ({rows[endpoint]}): {response.status_code}, changed something")
    assert failures == []


def test_the_checks_can_fail(app, client, login, town):
    """A control: a route a participant may use does change the database here."""
    login(make_user())
    before = snapshot()
    send(client, "POST", f"/problems/{town['problem_id']}/confirm")
    db.session.rollback()
    assert snapshot() != before
