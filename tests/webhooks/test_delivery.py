"""Events reach webhooks: signed, after commit, through the job queue, retried with
backoff, given up after the retry window, and webhooks disabled after repeated failure."""
from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import select

from accounts.models import Role
from challenges import services as challenges
from extensions import db
from notifications.jobs import work_off
from tests.factories import make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from tests.querycount import counting
from tests.webhooks.helpers import body_of, deliveries, make_webhook, secret, settings
from timeutil import utcnow
from webhooks import delivery, services, signing
from webhooks.models import DeliveryState, Webhook, WebhookAttempt


def fake_post(*statuses):
    """A transport answering the given statuses in turn (then 200), recording what it got."""
    answers = list(statuses)
    sent = []

    def post(target, body, headers, timeout):
        sent.append((target, body, headers))
        answer = answers.pop(0) if answers else 200
        if isinstance(answer, Exception):
            raise answer
        return answer
    post.sent = sent
    return post


def public(host, port):
    return ["93.184.216.34"]


def test_a_receiver_gets_a_correctly_signed_delivery_for_a_status_change(app, ctx, receiver, login):
    admin = make_user(role=Role.admin)
    organiser = make_organiser()
    problem = make_problem(make_user(name="Ada"), title="Broken bench")
    client = login(admin)
    response = client.post("/webhooks/new", data={"url": receiver.url(), "events": ["problem.status_changed"],
                                                   "allow_private": "y"})
    assert response.status_code == 201
    webhook = db.session.scalars(select(Webhook)).one()
    shown = secret(webhook)
    assert shown in response.get_data(as_text=True)

    client = login(organiser)
    client.post(f"/problems/{problem.id}/status", data={"status": "in_progress", "note": "Crew booked."})
    assert receiver.requests == []  # nothing is sent inside the request
    work_off(app)

    [request] = receiver.requests
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["FixQuest-Event"] == "problem.status_changed"
    timestamp = signing.verify(shown, request.headers["FixQuest-Signature"], request.body, now=time.time())
    assert abs(timestamp - time.time()) < 60
    body = body_of(request)
    assert body["event"] == "problem.status_changed" and len(body["id"]) == 32
    data = body["data"]
    assert (data["old_status"], data["new_status"], data["note"]) == ("open", "in_progress", "Crew booked.")
    assert data["problem"]["id"] == problem.id and data["problem"]["title"] == "Broken bench"
    assert data["problem"]["url"].endswith(f"/problems/{problem.id}")
    assert "Ada" not in request.body.decode() and "@" not in request.body.decode()
    [row] = deliveries(webhook.id)
    assert (row.state, row.attempts, row.last_status_code) == (DeliveryState.delivered.value, 1, 200)
    assert [a.status_code for a in row.log] == [200]


def test_a_tampered_or_replayed_delivery_fails_the_receivers_check(ctx, receiver):
    admin = make_user(role=Role.admin)
    webhook = make_webhook(admin, receiver.url())
    problem = make_problem(make_user())
    sent_at = utcnow() - timedelta(hours=1)
    challenges.change_status(db.session, actor=admin, problem=problem, status="fixed", now=sent_at)
    db.session.commit()
    [row] = deliveries(webhook.id)
    delivery.deliver(db.session, row.id, settings=settings(), now=sent_at)
    [request] = receiver.requests
    header = request.headers["FixQuest-Signature"]
    assert signing.verify(secret(webhook), header, request.body, now=sent_at.timestamp() + 5)
    for check in (
        lambda: signing.verify(secret(webhook), header, request.body.replace(b"fixed", b"open!"),
                               now=sent_at.timestamp()),
        lambda: signing.verify(secret(webhook), header, request.body, now=time.time()),  # replayed an hour later
        lambda: signing.verify("whsec_guess", header, request.body, now=sent_at.timestamp()),
    ):
        try:
            check()
        except signing.InvalidSignature:
            continue
        raise AssertionError("accepted a delivery it should refuse")


def test_a_failed_delivery_is_retried_with_backoff_and_the_same_body(ctx, receiver):
    receiver.statuses = [500]
    admin = make_user(role=Role.admin)
    webhook = make_webhook(admin, receiver.url())
    problem = make_problem(make_user())
    challenges.change_status(db.session, actor=admin, problem=problem, status="fixed")
    db.session.commit()
    [row] = deliveries(webhook.id)
    t0 = utcnow()

    first = delivery.deliver(db.session, row.id, settings=settings(), now=t0)
    assert (first.state, first.status_code, first.next_attempt_at) == ("pending", 500, t0 + timedelta(minutes=1))
    assert delivery.retry_due(db.session, settings=settings(), now=t0 + timedelta(seconds=59)) == []
    assert len(receiver.requests) == 1

    [second] = delivery.retry_due(db.session, settings=settings(), now=t0 + timedelta(minutes=1))
    assert (second.state, second.status_code) == ("delivered", 200)
    assert [r.body for r in receiver.requests] == [receiver.requests[0].body] * 2
    stamps = [signing.verify(secret(webhook), r.headers["FixQuest-Signature"], r.body, now=ts.timestamp())
              for r, ts in zip(receiver.requests, (t0, t0 + timedelta(minutes=1)))]
    assert stamps == [int(t0.timestamp()), int((t0 + timedelta(minutes=1)).timestamp())]
    [row] = deliveries(webhook.id)
    assert (row.state, row.attempts, row.last_status_code, row.last_error) == ("delivered", 2, 200, None)
    assert [(a.status_code, a.error) for a in row.log] == [(500, "HTTP 500"), (200, None)]
    assert row.delivered_at == t0 + timedelta(minutes=1)
    # delivered means never again
    assert delivery.retry_due(db.session, settings=settings(), now=t0 + timedelta(days=2)) == []


def test_backoff_doubles_from_a_minute_up_to_four_hours():
    assert [delivery.backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert delivery.backoff(9) == timedelta(hours=4) and delivery.backoff(40) == timedelta(hours=4)


def test_retries_stop_a_day_after_the_first_attempt(ctx):
    admin = make_user(role=Role.admin)
    webhook = make_webhook(admin, "https://hooks.example.org/x", allow_private=False)
    problem = make_problem(make_user())
    challenges.change_status(db.session, actor=admin, problem=problem, status="fixed")
    db.session.commit()
    [row] = deliveries(webhook.id)
    post = fake_post(*[503] * 100)
    t0 = clock = utcnow()
    outcome = delivery.deliver(db.session, row.id, settings=settings(), now=clock, post=post, resolver=public)
    while outcome.next_attempt_at is not None:
        clock = outcome.next_attempt_at
        [outcome] = delivery.retry_due(db.session, settings=settings(), now=clock, post=post, resolver=public)
    assert outcome.state == DeliveryState.failed.value
    assert clock == t0 + timedelta(hours=24)  # 1, 2, 4 ... 128 minutes, then every 4 hours, the last at 24 h
    [row] = deliveries(webhook.id)
    assert row.state == "failed" and row.attempts == len(post.sent) == len(row.log) == 14
    assert delivery.retry_due(db.session, settings=settings(), now=clock + timedelta(days=3), post=post,
                              resolver=public) == []


def test_connection_errors_and_redirects_are_failures_and_redirects_are_not_followed(ctx, receiver):
    receiver.statuses = [302]
    admin = make_user(role=Role.admin)
    webhook = make_webhook(admin, receiver.url())
    problem = make_problem(make_user())
    challenges.change_status(db.session, actor=admin, problem=problem, status="fixed")
    db.session.commit()
    [row] = deliveries(webhook.id)
    outcome = delivery.deliver(db.session, row.id, settings=settings())
    assert (outcome.state, outcome.status_code, outcome.error) == ("pending", 302, "HTTP 302")
    assert len(receiver.requests) == 1  # the Location was not visited
    receiver.__exit__()
    later = delivery.deliver(db.session, row.id, settings=settings(), now=outcome.next_attempt_at)
    assert later.state == "pending" and later.status_code is None and "Connection" in later.error


def test_a_host_that_rebinds_to_a_private_address_is_refused_at_delivery(ctx):
    organiser = make_organiser()
    webhook = services.register(db.session, actor=organiser, url="https://hooks.example.org/x",
                                events=[services.PROBLEM_CREATED], resolver=public)
    db.session.commit()
    make_problem(make_user())
    [row] = deliveries(webhook.id)
    post = fake_post()
    outcome = delivery.deliver(db.session, row.id, settings=settings(), post=post,
                               resolver=lambda host, port: ["169.254.169.254"])
    assert post.sent == [] and outcome.state == "pending"
    assert outcome.error.startswith("refused: ") and "link-local" in outcome.error


def test_a_webhook_is_disabled_after_repeated_failed_deliveries_and_its_owner_is_told(ctx, app, outbox):
    organiser = make_organiser(email="hooks@example.org")
    webhook = services.register(db.session, actor=organiser, url="https://hooks.example.org/x",
                                events=[services.PROBLEM_CREATED], resolver=public)
    db.session.commit()
    from webhooks.jobs import notifier

    strict = settings(disable_after=2, retry_window=timedelta(minutes=3))
    post = fake_post(*[500] * 100)
    for n in range(2):
        make_problem(make_user())
    clock = utcnow()
    for _ in range(4):
        delivery.retry_due(db.session, settings=strict, now=clock, post=post, resolver=public, notify=notifier(app))
        clock += timedelta(minutes=2)
    db.session.expire_all()
    webhook = db.session.get(Webhook, webhook.id)
    assert not webhook.enabled and webhook.consecutive_failures == 2
    assert "2 deliveries in a row failed" in webhook.disabled_reason and "HTTP 500" in webhook.disabled_reason
    [mail] = outbox.to("hooks@example.org")
    assert mail["Subject"] == "Your FixQuest webhook was disabled"
    assert f"/webhooks/{webhook.id}" in mail.get_content()

    # disabled: new events are not queued for it, waiting deliveries are not sent
    make_problem(make_user())
    assert len(deliveries(webhook.id)) == 2
    before = len(post.sent)
    assert delivery.retry_due(db.session, settings=strict, now=clock + timedelta(days=1), post=post,
                              resolver=public) == []
    assert len(post.sent) == before


def test_a_success_resets_the_failure_count(ctx):
    organiser = make_organiser()
    webhook = services.register(db.session, actor=organiser, url="https://hooks.example.org/x",
                                events=[services.PROBLEM_CREATED], resolver=public)
    db.session.commit()
    strict = settings(disable_after=2, retry_window=timedelta(0))  # no retries
    post = fake_post(500, 200, 500)
    clock = utcnow()
    for _ in range(3):
        make_problem(make_user())
        delivery.retry_due(db.session, settings=strict, now=clock, post=post, resolver=public)
        clock += timedelta(minutes=1)
    db.session.expire_all()
    webhook = db.session.get(Webhook, webhook.id)
    assert webhook.enabled and webhook.consecutive_failures == 1
    assert [d.state for d in deliveries(webhook.id)] == ["failed", "delivered", "failed"]


def test_re_enabling_sends_what_was_waiting(ctx, app, login, receiver):
    admin = make_user(role=Role.admin)
    webhook = make_webhook(admin, receiver.url(), events=[services.PROBLEM_CREATED])
    make_problem(make_user())
    db.session.execute(Webhook.__table__.update().values(disabled_at=utcnow(), disabled_reason="test"))
    db.session.commit()
    work_off(app)
    assert receiver.requests == []
    response = login(admin).post(f"/webhooks/{webhook.id}/enable", data={})
    assert response.status_code == 302
    work_off(app)
    assert [body_of(r)["event"] for r in receiver.requests] == ["problem.created"]


def test_a_rolled_back_event_is_never_sent(ctx, app, receiver):
    admin = make_user(role=Role.admin)
    make_webhook(admin, receiver.url(), events=[services.PROBLEM_CREATED])
    challenges.report_problem(db.session, actor=admin, title="Never mind", description="Typed by mistake.",
                              category="litter", lat=51.45, lon=-2.58, address=None, categories=("litter",))
    db.session.rollback()
    work_off(app)
    assert receiver.requests == [] and deliveries() == []


def test_emitting_to_nobody_costs_one_query_and_builds_no_payload(ctx, app):
    organiser = make_organiser()
    services.register(db.session, actor=organiser, url="https://hooks.example.org/x",
                      events=[services.CLAIM_APPROVED], resolver=public)
    db.session.commit()

    def build():
        raise AssertionError("payload built for nobody")
    with counting(db.engine) as statements:
        assert services.emit(db.session, services.PROBLEM_CREATED, build) == 0
    assert len(statements) == 1


def test_each_subscribed_enabled_webhook_gets_its_own_delivery_of_one_event(ctx):
    organiser = make_organiser()
    a, b, c = (services.register(db.session, actor=organiser, url=f"https://hooks.example.org/{n}",
                                 events=events, resolver=public)
               for n, events in enumerate([[services.CAMPAIGN_MILESTONE], [services.CAMPAIGN_MILESTONE],
                                           [services.PROBLEM_CREATED]]))
    b.disabled_at = utcnow()
    db.session.flush()
    assert services.emit(db.session, services.CAMPAIGN_MILESTONE, {"campaign": {"id": 7}, "reached": 50}) == 1
    db.session.commit()
    [row] = deliveries()
    assert row.webhook_id == a.id
    assert json.loads(row.payload)["data"] == {"campaign": {"id": 7}, "reached": 50}


def test_claim_approved_names_a_private_class_a_school_class(ctx, app, receiver):
    from challenges import reviews
    from childsafe import services as childsafe
    from tests.childsafe.helpers import make_school_class

    admin = make_user(role=Role.admin)
    make_webhook(admin, receiver.url(), events=[services.CLAIM_APPROVED])
    organiser = make_organiser()
    for public in (False, True):
        teacher, team, (child,) = make_school_class(None, f"Kid {public}", team_name=f"Hillside {public}",
                                                    public=public)
        claim = make_claim(child, make_quest(organiser, mode="team"), team=team)
        challenges.submit_evidence(db.session, actor=child, claim=claim, evidence="Done", members=[child.id])
        db.session.commit()
        childsafe.decide(db.session, actor=teacher, hold=childsafe.hold_of(db.session, claim.id), decision="approve")
        reviews.review_claim(db.session, actor=organiser, claim=claim, decision="approve")
        db.session.commit()
    work_off(app)
    bodies = [body_of(r) for r in receiver.requests]
    assert [b["data"]["team"] for b in bodies] == [{"id": None, "name": "a school class"},
                                                   {"id": team.id, "name": "Hillside True"}]
    assert "Hillside False" not in b"".join(r.body for r in receiver.requests).decode()


def test_claim_approved_names_nobody_private(ctx, app, receiver):
    admin = make_user(role=Role.admin)
    make_webhook(admin, receiver.url(), events=[services.CLAIM_APPROVED])
    organiser = make_organiser()
    quest = make_quest(organiser, title="Paint the bench")
    child = make_user(name="Tiny Tim", email="tim@school.example")
    child.is_child = True
    hidden = make_user(name="Shy Sam")
    hidden.hidden_from_boards = True
    public_person = make_user(name="Open Olu")
    db.session.commit()
    team = make_team(public_person, name="Bench Crew")
    teacher = make_organiser()
    make_team(teacher, name="Class 4", members=(child,))
    from challenges import reviews
    from childsafe import services as childsafe

    team_quest = make_quest(organiser, title="Paint the bench", mode="team")
    for person, on, with_team in ((child, quest, None), (hidden, quest, None), (public_person, team_quest, team)):
        claim = make_claim(person, on, team=with_team, submit=True)
        if person is child:  # the teacher releases a child's evidence to reviewers first
            childsafe.decide(db.session, actor=teacher, hold=childsafe.hold_of(db.session, claim.id), decision="approve")
        reviews.review_claim(db.session, actor=organiser, claim=claim, decision="approve")
        db.session.commit()
    work_off(app)
    bodies = [body_of(r) for r in receiver.requests]
    assert [b["data"]["participant"] for b in bodies] == [None, None, "Open Olu"]
    assert [b["data"]["team"] for b in bodies] == [None, None, {"id": team.id, "name": "Bench Crew"}]
    assert bodies[0]["data"]["quest"]["title"] == "Paint the bench"
    raw = b"".join(r.body for r in receiver.requests).decode()
    assert "Tiny Tim" not in raw and "Shy Sam" not in raw and "@" not in raw


def test_deleting_a_webhook_mid_delivery_records_nothing(ctx):
    organiser = make_organiser()
    webhook = services.register(db.session, actor=organiser, url="https://hooks.example.org/x",
                                events=[services.PROBLEM_CREATED], resolver=public)
    db.session.commit()
    make_problem(make_user())
    [row] = deliveries(webhook.id)

    def post(target, body, headers, timeout):
        from sqlalchemy.orm import Session

        with Session(db.engine) as other:
            services.remove(other, actor=organiser, webhook=other.get(Webhook, webhook.id))
            other.commit()
        return 200
    outcome = delivery.deliver(db.session, row.id, settings=settings(), post=post, resolver=public)
    assert outcome.state == "sending"
    assert db.session.scalars(select(WebhookAttempt)).all() == [] and deliveries() == []


def test_retry_due_finds_deliveries_whose_job_was_lost(ctx, app, runner, receiver):
    """After a restart (the queued job and any scheduled retry gone) the sweep sends what is due."""
    admin = make_user(role=Role.admin)
    webhook = make_webhook(admin, receiver.url(), events=[services.PROBLEM_CREATED])
    make_problem(make_user())
    make_problem(make_user())
    jobs = app.extensions["fixquest.jobs"]
    if hasattr(jobs, "clear"):
        jobs.clear()
    else:  # RQ: empty the queue as a crash would
        jobs.queue.empty()
    result = runner.invoke(args=["webhooks", "retry-due"])
    assert result.exit_code == 0, result.output
    assert "tried 2: delivered 2, retrying 0, failed 0" in result.output
    assert len(receiver.requests) == 2 and all(d.state == "delivered" for d in deliveries(webhook.id))
    assert "tried 0" in runner.invoke(args=["webhooks", "retry-due"]).output


def test_a_lapsed_claim_is_taken_again(ctx):
    """A worker that died mid-delivery leaves the row `sending`; after the lease it is retried."""
    organiser = make_organiser()
    webhook = services.register(db.session, actor=organiser, url="https://hooks.example.org/x",
                                events=[services.PROBLEM_CREATED], resolver=public)
    db.session.commit()
    make_problem(make_user())
    [row] = deliveries(webhook.id)
    t0 = utcnow()
    assert delivery.claim(db.session, row.id, now=t0) == 1  # ... and the worker dies here
    post = fake_post()
    assert delivery.retry_due(db.session, settings=settings(), now=t0 + timedelta(minutes=1), post=post,
                              resolver=public) == []
    [outcome] = delivery.retry_due(db.session, settings=settings(), now=t0 + delivery.CLAIM_LEASE, post=post,
                                   resolver=public)
    assert outcome.state == "delivered" and len(post.sent) == 1
    assert deliveries(webhook.id)[0].attempts == 2


def test_a_campaign_milestone_is_delivered_once_each_naming_nobody(ctx, app, receiver):
    from campaigns import services as campaigns
    from maps.area import BBox
    from tests.factories import approve

    admin = make_user(role=Role.admin)
    make_webhook(admin, receiver.url(), events=[services.CAMPAIGN_MILESTONE])
    organiser = make_organiser()
    campaign = campaigns.create_campaign(
        db.session, actor=organiser, title="Fix the Old City", why="Everyone walks through here.",
        area=BBox(min_lon=-2.7, min_lat=51.4, max_lon=-2.5, max_lat=51.5), goal=4, categories=(),
        all_categories=app.config["CATEGORIES"], ends_at=utcnow() + timedelta(days=30))
    db.session.commit()
    fixer = make_user(name="Fixer Fran")
    for _ in range(2):
        quest = make_quest(organiser, problem_id=make_problem(organiser).id)
        claim = approve(organiser, make_claim(fixer, quest, submit=True))
    campaigns.after_approval(db.session, claim=claim)  # the same fix again: no new milestone
    db.session.commit()
    work_off(app)
    bodies = [body_of(r) for r in receiver.requests]
    assert [b["event"] for b in bodies] == [services.CAMPAIGN_MILESTONE] * 2
    assert [(b["data"]["percent"], b["data"]["count"]) for b in bodies] == [(25, 1), (50, 2)]
    assert bodies[0]["data"]["campaign"]["id"] == campaign.id
    assert bodies[0]["data"]["campaign"]["url"].endswith(f"/campaigns/{campaign.id}")
    assert "Fixer Fran" not in json.dumps(bodies)
