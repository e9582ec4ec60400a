"""schemathesis fuzzes the JSON API from its OpenAPI document (api/openapi.py), in-process
over WSGI, with a few seeded objects and an organiser's write token: no response may be a
server error, and every response must have a documented status, content type and shape.

One test per documented operation, with cases that fit the document and cases that do not
(those must be refused with a documented 4xx). Bounded so that it stays a small part of a
suite run: FIXQUEST_FUZZ_EXAMPLES examples per operation (default 25), derandomized (the
same cases every run, so CI is stable). Half of the generated ids in URL paths are swapped
for a seeded object's, so that the services behind them are reached too.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_schema_conformance,
                                 status_code_conformance)

from sqlalchemy import select

from accounts import services as accounts
from accounts.models import ApiToken
from api.openapi import PREFIX, operations
from challenges import tracker
from extensions import db
from notifications.models import Notification
from tests.api import auth
from tests.api.test_people import notify
from tests.api.test_webhooks import without_dns
from tests.events_helpers import make_event
from tests.factories import make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from tests.test_campaigns import make_campaign
from tests.test_classes import create_class
from webhooks import services as webhooks

FUZZ_EXAMPLES = int(os.environ.get("FIXQUEST_FUZZ_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
DOCUMENTED = [(op.method.upper(), PREFIX + op.path) for op in operations(["pothole"])]


@pytest.fixture
def seeded(app, ctx, monkeypatch):
    without_dns(monkeypatch)  # webhook URLs are checked, but no name is looked up
    organiser = make_organiser()
    member = make_user()
    problem = make_problem(member)
    quest = make_quest(organiser)
    claim = make_claim(member, quest, submit=True)
    # The token's own team (so the captain's routes are reached) with a join request waiting,
    # an event, a campaign, a school class of theirs and a notification of theirs.
    own_team = make_team(organiser, members=(member,))
    join_request = accounts.request_to_join(db.session, actor=make_user(), team=own_team)
    db.session.commit()
    event = make_event(organiser)
    campaign = make_campaign(organiser)
    _, school_class, _, _ = create_class(app, organiser, size=2)
    notify(make_organiser(), organiser, 1)
    notification_id = db.session.scalar(select(Notification.id).where(Notification.user_id == organiser.id))
    # Their webhook, invite link, subscription and a spare API token (for the account routes).
    webhook = webhooks.register(db.session, actor=organiser, url="https://hooks.example.org/x",
                                events=[webhooks.PROBLEM_CREATED])
    invite, _ = accounts.create_invite(db.session, actor=organiser, team=own_team)
    subscription = tracker.subscribe_category(db.session, actor=organiser, category="pothole", categories=("pothole",))
    comment = tracker.comment(db.session, actor=organiser, problem=problem, body="Booked.")  # theirs: photos go on it
    accounts.issue_token(db.session, user=organiser, name="spare")
    db.session.commit()
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "spare"))
    return {"headers": auth(organiser),
            "ids": {"problem_id": problem.id, "quest_id": quest.id, "claim_id": claim.id, "team_id": own_team.id,
                    "member_id": member.id, "event_id": event.id, "campaign_id": campaign.id,
                    "class_id": school_class.id, "notification_id": notification_id, "user_id": member.id,
                    "request_id": join_request.id, "webhook_id": webhook.id, "invite_id": invite.id,
                    "subscription_id": subscription.id, "token_id": token_id, "update_id": comment.id}}


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.mark.parametrize(("method", "path"), DOCUMENTED, ids=[f"{m} {p}" for m, p in DOCUMENTED])
def test_api_answers_as_documented(api_schema, seeded, method, path):
    operation = api_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def answers_as_documented(case):
        for name, value in (case.path_parameters or {}).items():
            if name in seeded["ids"] and isinstance(value, int) and value % 2 == 0:
                case.path_parameters[name] = seeded["ids"][name]
        case.call_and_validate(headers=seeded["headers"], checks=CHECKS)

    answers_as_documented()
