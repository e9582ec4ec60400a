"""The authorisation matrix for routes whose rule names an object ("the team's captain",
"the class's teacher", "the event's organisers", "the webhook's owner", "the claimant" ...).

docs/authorisation.md is read as in tests/test_authorisation.py. For each such route, a
rival who holds the same role over their OWN object (another team's captain, another
class's teacher, another event's organiser, another webhook's owner, another claimant;
an organiser, so organiser-wide rights do not explain a refusal) is refused and nothing in
the database changes; then the person the rule names succeeds and something changes.
A second set of tests reads objects that are not public by guessing their ids.
"""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts import services as accounts
from accounts.models import ApiToken
from campaigns import services as campaigns
from challenges.models import Claim, ProblemUpdate, Subscription
from childsafe.models import ModerationHold
from classes.services import create_class
from events import services as events
from extensions import db
from maps.area import BBox
from notifications.models import Notification
from tests.api import auth
from tests.events_helpers import make_event
from tests.factories import make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from tests.test_authorisation import FORM, documented, snapshot
from tests.webhooks.helpers import make_webhook
from timeutil import utcnow

# The phrase a rule starts with -> who in the world it names.
OWNERS = {
    "the token's owner": "captain", "the team's captain": "captain", "a member": "member",
    "the claimant": "member", "token: the claimant": "member", "the child's teacher": "teacher",
    "the class's teacher": "teacher", "the event's organisers": "teacher", "the campaign's organiser": "teacher",
    "the notification's recipient": "captain", "the subscription's owner": "captain",
    "the webhook's owner": "teacher",
    "token: the event's organisers": "teacher", "token: the campaign's organiser": "teacher",
}
# Routes whose success needs more than one request can set up; each is proved in its feature's tests.
POSITIVE_ELSEWHERE = {
    "campaigns.launch": "only a campaign the community voted for is launched (tests/test_campaigns.py)",
    "classes.decide_name": "needs a child's pending name request (tests/test_classes.py)",
    "classes.delete_children": "the class must be archived first, which other rows here need open (tests/test_classes.py)",
    "events.edit_event": "the whole event form in local times (tests/test_events.py)",
    "api.launch_campaign": "only a campaign the community chose is launched (tests/api/test_campaigns_write.py)",
}
# POSTs that reveal something to the named person without changing anything.
REVEALS = {"webhooks.show_secret"}
BODIES = {  # what the named person sends for the request to succeed (a function of the world's ids)
    "accounts.set_size": {"max_size": "6"},
    "accounts.create_invite": {"expires": "7"},
    "accounts.regenerate_code": {"expires": "7"},
    "notifications.change_delivery": lambda values: {f"s{values['subscription_id']}-delivery": "digest"},
    "challenges.submit": {"evidence": "Cleared it all."},
    "api.submit_evidence": {"evidence": "Cleared it all."},
    "classes.settings": {"streaks_enabled": "y", "show_in_rankings": "y"},
    "api.change_event": {"lat": 51.45, "lon": -2.58, "mode": "team"},  # JSON numbers; the event's own mode
    "api.add_event_quest": lambda values: {"quest_id": values["spare_quest_id"]},
    "api.add_event_organiser": lambda values: {"user_id": values["colleague_id"]},
}


def owner_phrase(who: str) -> str | None:
    return next((phrase for phrase in OWNERS if who.startswith(phrase)), None)


def _their_things(app, person, label):
    """A team captained, a class taught, an event run, a webhook, a claim, a token, a
    notification and a subscription, all belonging to `person`."""
    team = make_team(person, name=f"{label} team")
    problem = make_problem(person, title=f"{label}'s pothole")
    quest = make_quest(person, problem_id=problem.id, title=f"{label}'s quest")
    claim = make_claim(person, make_quest(make_organiser(), title=f"{label}'s own quest"))
    school_class, _ = create_class(db.session, actor=person, name=f"{label} class", size=1, secret_kind="password",
                                   hash_method=app.config["PASSWORD_HASH_METHOD"])
    event = make_event(person, title=f"{label} jam")
    db.session.commit()
    webhook = make_webhook(person, f"https://{label.lower()}.example/hook", allow_private=False)
    headers = auth(person)
    update_id = db.session.scalar(select(ProblemUpdate.id).where(ProblemUpdate.problem_id == problem.id))
    subscription_id = db.session.scalar(select(Subscription.id).where(Subscription.user_id == person.id))
    db.session.add(Notification(update_id=update_id, user_id=person.id, subscription_id=subscription_id,
                                channel="in_app", state="sent", sent_at=utcnow()))
    db.session.commit()
    return dict(team=team, quest=quest, claim=claim, school_class=school_class, event=event, webhook=webhook,
                headers=headers)


@pytest.fixture
def world(app, ctx):
    teacher = make_organiser(name="Tess Teacher")  # teaches the class, runs the event, owns the webhook
    captain, member, joiner = make_user(name="Cara Captain"), make_user(name="Milo Member"), make_user()
    team = make_team(captain, members=(member,))
    join_request = accounts.request_to_join(db.session, actor=joiner, team=team)
    invite, _ = accounts.create_invite(db.session, actor=captain, team=team)
    problem = make_problem(captain)  # the reporter follows it: a subscription
    claim = make_claim(member, make_quest(teacher, problem_id=problem.id))
    school_class, _ = create_class(db.session, actor=teacher, name="Class 9", size=2, secret_kind="password",
                                   hash_method=app.config["PASSWORD_HASH_METHOD"])
    db.session.commit()
    child_id = db.session.scalar(select(accounts.TeamMembership.user_id).where(
        accounts.TeamMembership.team_id == school_class.team_id, accounts.TeamMembership.user_id != teacher.id))
    child = db.session.get(accounts.User, child_id)
    child_claim = make_claim(child, make_quest(make_organiser()), submit=True)
    hold_id = db.session.scalar(select(ModerationHold.id).where(ModerationHold.claim_id == child_claim.id))
    now = utcnow()  # the event starts in an hour: its quests can still change
    event = make_event(teacher, starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=3),
                       registration_closes_at=now + timedelta(minutes=30))
    event_quest = make_quest(teacher, title="Jam quest", mode="team")
    events.add_quest(db.session, actor=teacher, event=event, quest=event_quest)
    spare_quest = make_quest(teacher, title="Another jam quest", mode="team")
    campaign = campaigns.create_campaign(db.session, actor=teacher, title="Clean the ward", why="Because.",
                                         area=BBox(min_lon=-2.7, min_lat=51.4, max_lon=-2.5, max_lat=51.5), goal=5,
                                         categories=(), all_categories=app.config["CATEGORIES"],
                                         ends_at=utcnow().replace(year=utcnow().year + 1))
    db.session.commit()
    webhook = make_webhook(teacher, "https://council.example/hook", allow_private=False)
    webhook.disabled_at = now  # so that enabling it changes something
    colleague = make_organiser(name="Col League")
    headers = {"captain": auth(captain), "member": auth(member), "teacher": auth(teacher)}
    update_id = db.session.scalar(select(ProblemUpdate.id).where(ProblemUpdate.problem_id == problem.id))
    subscription_id = db.session.scalar(select(Subscription.id).where(Subscription.user_id == captain.id))
    notification = Notification(update_id=update_id, user_id=captain.id, subscription_id=subscription_id,
                                channel="in_app", state="sent", sent_at=utcnow())
    db.session.add(notification)
    db.session.commit()
    assert hold_id is not None and subscription_id is not None
    rival = make_organiser(name="Rex Rival")
    rivals = _their_things(app, rival, "Rival")
    values = {"team_id": team.id, "request_id": join_request.id, "decision": "approve", "invite_id": invite.id,
              "user_id": member.id, "claim_id": claim.id, "class_id": school_class.id, "child_id": child.id,
              "hold_id": hold_id, "event_id": event.id, "quest_id": event_quest.id, "campaign_id": campaign.id,
              "notification_id": notification.id, "subscription_id": subscription_id, "webhook_id": webhook.id,
              "token_id": db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == captain.id)),
              "problem_id": problem.id, "spare_quest_id": spare_quest.id, "colleague_id": colleague.id}
    return {"people": {"teacher": teacher, "captain": captain, "member": member, "rival": rival},
            "headers": {**headers, "rival": rivals["headers"]}, "values": values,
            "extra": {"new_captain_id": str(member.id), "quest_id": str(spare_quest.id),
                      "user_id": str(colleague.id)}}


def scoped_routes(app):
    rows = documented()
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            phrase = owner_phrase(rows.get(rule.endpoint, ""))
            if phrase:
                yield rule, method, phrase


def _path(app, rule, values):
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, {name: values[name] for name in rule.arguments})


def _send(client, login, world, who, method, path, body):
    if path.startswith("/api/") and path.endswith("/photos"):  # uploads: multipart, with a real photo
        photo = {field: (io.BytesIO(two_tone_jpeg()), "photo.jpg") for field in ("photos", "before_photo")}
        return client.open(path, method=method, data=photo, content_type="multipart/form-data",
                           headers=world["headers"][who])
    if path.startswith("/api/"):
        return client.open(path, method=method, json=body, headers=world["headers"][who])
    login(world["people"][who])
    return client.open(path, method=method, data={**body, "csrf_token": client.csrf_token()})


def two_tone_jpeg() -> bytes:
    from tests.media.samples import encode, two_tone

    return encode(two_tone((64, 32)), "JPEG")


def test_every_object_scoped_rule_has_a_named_person(app):
    rules = {rule.endpoint for rule, _, _ in scoped_routes(app)}
    assert {"accounts.hand_over", "classes.archive", "events.edit_event", "webhooks.delete", "challenges.submit",
            "childsafe.decide", "notifications.read", "accounts.revoke_token"} <= rules


def _cases():
    from app import create_app
    from tests.conftest import app_config

    app = create_app({**app_config("sqlite://", None), "AUTO_MIGRATE": False})
    return sorted({(rule.endpoint, rule.rule, method) for rule, method, _ in scoped_routes(app)})


@pytest.mark.parametrize("endpoint,route,method", _cases())
def test_a_rival_with_the_same_role_is_refused_and_the_named_person_succeeds(app, client, login, world,
                                                                               endpoint, route, method):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == route)
    phrase = owner_phrase(documented()[endpoint])
    path = _path(app, rule, world["values"])
    extra = BODIES.get(endpoint, {})
    body = {**FORM, **world["extra"], **(extra(world["values"]) if callable(extra) else extra)}
    before = snapshot()
    refused = _send(client, login, world, "rival", method, path, body)
    db.session.rollback()
    assert refused.status_code < 500, refused.get_data(as_text=True)[:300]
    assert snapshot() == before, f"{method} {path} as a rival {phrase} ({refused.status_code}) changed something"
    if endpoint in POSITIVE_ELSEWHERE:
        return
    allowed = _send(client, login, world, OWNERS[phrase], method, path, body)
    db.session.rollback()
    assert allowed.status_code < 400, f"{method} {path} as {phrase}: {allowed.status_code} " \
                                      f"{allowed.get_data(as_text=True)[:300]}"
    if endpoint in REVEALS:
        assert allowed.status_code == 200 and snapshot() == before
    else:
        assert snapshot() != before, f"{method} {path} as {phrase} changed nothing"


# --- reading what is not public by guessing ids --------------------------------------------

SECRET_EVIDENCE = "Secret evidence: the key is under the mat"


def _refused(response) -> bool:
    return response.status_code in (403, 404) or (
        response.status_code == 302 and "/login" in response.headers.get("Location", ""))


def test_objects_that_are_not_public_cannot_be_read_by_guessing_their_ids(app, client, login, world):
    people, values = world["people"], world["values"]
    teacher, captain, member = people["teacher"], people["captain"], people["member"]
    draft = make_quest(teacher, title="A quest still in draft")
    draft.status = "proposed"
    claim = db.session.get(Claim, values["claim_id"])
    from challenges.services import submit_evidence
    submit_evidence(db.session, actor=member, claim=claim, evidence=SECRET_EVIDENCE)
    db.session.commit()
    held = db.session.get(ModerationHold, values["hold_id"])
    team = db.session.get(accounts.Team, values["team_id"])
    stranger, rival = make_user(name="Sam Stranger"), people["rival"]
    # Organisers see drafts and claims (they publish and review them), so the rival organiser
    # is tried on what is another organiser's: their class, their webhook, held child work.
    theirs = [f"/claims/{held.claim_id}", f"/classes/{values['class_id']}", f"/classes/{values['class_id']}/export.csv",
              f"/classes/{values['class_id']}/board", f"/webhooks/{values['webhook_id']}",
              f"/people/{values['child_id']}"]
    anyones = [f"/quests/{draft.id}", f"/claims/{claim.id}"]
    failures = []
    for visitor, headers in ((stranger, auth(stranger)), (rival, world["headers"]["rival"])):
        pages = theirs + (anyones if not visitor.is_organiser else [])
        api = [f"/api/v1/claims/{held.claim_id}"] + (
            [f"/api/v1/quests/{draft.id}", f"/api/v1/claims/{claim.id}"] if not visitor.is_organiser else [])
        login(visitor)
        for path in pages:
            response = client.get(path)
            if not _refused(response):
                failures.append(f"{visitor.display_name}: GET {path} -> {response.status_code}")
        for path in api:
            response = client.get(path, headers=headers)
            if response.status_code not in (403, 404):
                failures.append(f"{visitor.display_name}: GET {path} -> {response.status_code}")
        # What is shown must not carry another person's secrets either.
        for path in (f"/teams/{team.id}", f"/api/v1/teams/{team.id}", "/account/tokens", "/notifications",
                     "/webhooks", "/claims"):
            body = client.get(path, headers=headers if path.startswith("/api/") else {}).get_data(as_text=True)
            secrets = (team.join_code, "https://council.example/hook") + (
                (SECRET_EVIDENCE,) if not visitor.is_organiser else ())
            for secret in secrets:
                if secret in body:
                    failures.append(f"{visitor.display_name}: GET {path} shows {secret!r}")
    assert failures == []
    # The controls: the people the objects belong to do read them.
    login(member)
    assert SECRET_EVIDENCE in client.get(f"/claims/{claim.id}").get_data(as_text=True)
    login(captain)
    assert team.join_code in client.get(f"/teams/{team.id}").get_data(as_text=True)
    login(teacher)
    assert client.get(f"/webhooks/{values['webhook_id']}").status_code == 200
    assert client.get(f"/classes/{values['class_id']}").status_code == 200


def test_another_persons_notifications_and_tokens_are_not_listed(client, login, world):
    captain, rival = world["people"]["captain"], world["people"]["rival"]
    login(rival)
    notifications = client.get("/notifications").get_data(as_text=True)
    tokens = client.get("/account/tokens").get_data(as_text=True)
    login(captain)
    own = client.get("/notifications").get_data(as_text=True)
    assert "Pothole on Broad Street" in own and "Pothole on Broad Street" not in notifications
    assert "Rival" in tokens or "tests" in tokens  # the rival sees their own token ...
    token_ids = db.session.scalars(select(ApiToken.id).where(ApiToken.user_id == captain.id)).all()
    assert all(f"/account/tokens/{token_id}/revoke" not in tokens for token_id in token_ids)  # ... not the captain's
