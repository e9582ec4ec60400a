"""The crawl: a town where a class of children has done everything, then every public GET
route in the app, as an anonymous visitor and as unrelated participants, must not show
a child's display name, login name or evidence text anywhere (pages, JSON API, Atom,
GeoJSON, Open311 XML and JSON, badge files). An unrelated organiser sees the work a
teacher released (to review it) but still no child's name, and nothing held.

Every GET rule in app.url_map is visited: a new route whose URL has an argument this test
does not know fails it (add real values to VALUES), and a route may be skipped only if it
is listed in SKIPPED, so nothing new slips by unchecked.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from accounts.models import Team, User
from challenges.models import Claim, Photo, Subscription
from childsafe.models import ModerationHold
from campaigns.models import Campaign
from campaigns.services import create_campaign
from classes.services import create_class
from events import services as event_services
from events.models import EventEntry
from extensions import db
from maps.area import BBox
from notifications.tokens import make_token
from open311.services import create_key
from scoring import badges
from tests.childsafe.helpers import upload
from tests.events_helpers import add_quests, make_event, set_times
from tests.webhooks.helpers import make_webhook
from tests.factories import approve, make_organiser, make_problem, make_quest, make_team, make_user
from tests.media.samples import photo_with_gps
from tests.notifications.helpers import drain
from timeutil import utcnow

# Routes not crawled, and why. Streams (Server-Sent Events) never end; static files are ours.
SKIPPED = {
    "static": "our own CSS, JavaScript and images",
    "events.scoreboard_stream": "a stream that never ends; its states are /events/<id>/scoreboard.json's, crawled",
    "events.organiser_stream": "a stream that never ends, for the event's organisers only (403 to everyone else)",
    "campaigns.progress_stream": "a stream that never ends; its states are the campaign page's progress, crawled",
    "notifications.stream": "a stream that never ends, of one's own inbox (login required)",
}

CHILDREN = {  # display name -> login (email)
    "Zephyrine Quackenbush": "zephyrine.quackenbush@pupils.invalid",
    "Bartholomew Fizzwhistle": "bartholomew.fizzwhistle@pupils.invalid",
    "Clementine Snorkelwood": "clementine.snorkelwood@pupils.invalid",
}
EVIDENCE = {
    "released": "Zephyrine swept the glass from the bus shelter on Gloucester Road",
    "team": "Bartholomew and Clementine painted over the tag on the underpass wall",
    "held": "Clementine counted nineteen cans behind the Elmgrove climbing frame",
    "sent back": "Bartholomew wrote something his teacher sent back for a rewrite",
    "class": "Picked up crisp packets by the pond",
    "jam": "Zephyrine weeded the tree pits on Stapleton Road for the jam",
}


@dataclass
class Town:
    teacher: User
    adult: User
    organiser: User
    children: list[User]
    team: Team
    adult_team: Team
    photo_keys: list[str]
    unsubscribe_token: str
    school_class_id: int
    class_card_names: list[str]  # a real class's children (classes/): safe-word pseudonyms
    event_id: int
    webhook_id: int

    @property
    def needles(self) -> list[str]:
        names = list(CHILDREN) + list(CHILDREN.values()) + [login.split("@")[0] for login in CHILDREN.values()]
        return names + list(EVIDENCE.values()) + self.class_card_names


def _as(client, login, user):
    if user is None:
        with client.session_transaction() as sess:
            sess.clear()
    else:
        login(user)


def _claim(client, login, child, quest, evidence, *, team=None, members=()):
    login(child)
    assert client.post(f"/quests/{quest.id}/claim", data={"team_id": team.id} if team else {}).status_code == 302
    claim = db.session.scalar(select(Claim).where(Claim.quest_id == quest.id).order_by(Claim.id.desc()))
    data = {"evidence": evidence, "photos": [upload(photo_with_gps())]}
    if members:
        data["members"] = [str(m.id) for m in members]
    assert client.post(f"/claims/{claim.id}/submit", data=data, content_type="multipart/form-data").status_code == 302
    return claim


def _moderate(client, login, teacher, claim, decision):
    login(teacher)
    hold_id = db.session.scalar(select(ModerationHold.id).where(ModerationHold.claim_id == claim.id))
    assert client.post(f"/moderation/{hold_id}/{decision}", data={}).status_code == 302


@pytest.fixture
def town(app, client, login) -> Town:
    organiser = make_organiser(name="Olu Organiser")
    teacher = make_organiser(name="Ms Teacher")
    adult = make_user(name="Adele Adult")
    # A campaign around the town, so the class's fixes count: its page, impact pages and CSVs.
    create_campaign(db.session, actor=organiser, title="Clean up Gloucester Road", why="We all walk it.",
                    area=BBox(min_lon=-2.7, min_lat=51.4, max_lon=-2.5, max_lat=51.5), goal=4, categories=(),
                    all_categories=app.config["CATEGORIES"], ends_at=utcnow() + timedelta(days=30))
    db.session.commit()
    children = []
    for name, email in CHILDREN.items():
        child = make_user(name=name, email=email)
        child.is_child, child.hidden_from_boards = True, True
        children.append(child)
    db.session.commit()
    zephyrine, bartholomew, clementine = children
    team = make_team(teacher, name="Class 5B", members=tuple(children))
    adult_team = make_team(adult, name="Bristol Litter Pickers")
    glass = make_problem(adult, title="Broken glass in the bus shelter", category="litter")
    tag = make_problem(organiser, title="Tag on the underpass", category="graffiti", lat=51.46, lon=-2.59)
    cans = make_problem(adult, title="Cans behind the playground", category="litter", lat=51.47, lon=-2.6)
    for child in children:  # "I see this too", which also follows the problems
        login(child)
        for problem in (glass, tag):
            assert client.post(f"/problems/{problem.id}/confirm", data={}).status_code == 302
    sweep = make_quest(organiser, title="Sweep the bus shelter", problem_id=glass.id)
    paint = make_quest(organiser, title="Paint over the tag", problem_id=tag.id, mode="team")
    count = make_quest(organiser, title="Count the cans", problem_id=cans.id)

    released = _claim(client, login, zephyrine, sweep, EVIDENCE["released"])
    _moderate(client, login, teacher, released, "approve")
    approve(organiser, released)
    together = _claim(client, login, bartholomew, paint, EVIDENCE["team"], team=team, members=(bartholomew, clementine))
    _moderate(client, login, teacher, together, "approve")
    approve(organiser, together)
    _claim(client, login, clementine, count, EVIDENCE["held"])
    sent_back = _claim(client, login, bartholomew, count, EVIDENCE["sent back"])
    _moderate(client, login, teacher, sent_back, "reject")
    badges.award(db.session, user_id=zephyrine.id, code="closer")
    db.session.commit()

    login(adult)
    client.post(f"/quests/{sweep.id}/claim", data={})
    adults_claim = db.session.scalar(select(Claim).where(Claim.user_id == adult.id))
    client.post(f"/claims/{adults_claim.id}/submit", data={"evidence": "Swept it too"},
                content_type="multipart/form-data")
    approve(organiser, adults_claim)
    login(organiser)
    client.post(f"/problems/{glass.id}/status", data={"status": "fixed", "note": "Swept by the school"})
    client.post(f"/problems/{tag.id}/comments", data={"body": "Class 5B painted it over. Thank you!"})
    _, api_key = create_key(db.session, name="Bristol City Council")
    db.session.commit()
    client.post("/open311/v2/requests.json", data={"api_key": api_key, "service_code": "pothole",
                                                   "lat": "51.45", "long": "-2.58", "description": "Deep hole"})
    drain(app)
    photo_keys = list(db.session.scalars(select(Photo.storage_key).where(Photo.uploader_id.in_([c.id for c in children]))))
    subscription = db.session.scalar(select(Subscription).where(Subscription.user_id == clementine.id))
    token = make_token(app.config["SECRET_KEY"], user_id=clementine.id, subscription_id=subscription.id)
    # A class made by the classes package too, one of whose children has an approved fix.
    school_class, cards = create_class(db.session, actor=teacher, name="Year 6 Ash", size=2, secret_kind="password",
                                       hash_method=app.config["PASSWORD_HASH_METHOD"])
    db.session.commit()
    pupil = db.session.get(User, cards[0].child_id)
    pupils_claim = _claim(client, login, pupil, make_quest(organiser, title="Pick up the crisp packets"),
                          EVIDENCE["class"])
    login(teacher)
    approve(teacher, pupils_claim)
    # A jam the class took part in, now over: its board, results and certificates.
    jam = make_event(organiser, title="Easton Jam", registration_closes_at=utcnow() + timedelta(minutes=30))
    [jam_quest] = add_quests(organiser, jam, 1)
    event_services.register(db.session, actor=organiser, event=jam, team_id=team.id)
    db.session.commit()
    jam_claim = _claim(client, login, zephyrine, jam_quest, EVIDENCE["jam"], team=team, members=(zephyrine,))
    _moderate(client, login, teacher, jam_claim, "approve")
    approve(organiser, jam_claim)
    set_times(jam, ends_at=utcnow() + timedelta(seconds=1), registration_closes_at=utcnow())
    set_times(jam, ends_at=utcnow())
    webhook = make_webhook(organiser, "https://council.example/hooks", allow_private=False)

    return Town(teacher, adult, organiser, children, team, adult_team, photo_keys, token, school_class.id,
                [card.card_name for card in cards], jam.id, webhook.id)


def _values(town: Town) -> dict[str, list]:
    """Real values for every URL argument of a GET route (by argument name)."""
    claims = list(db.session.scalars(select(Claim.id)))
    return {
        "claim_id": claims,
        "problem_id": list(db.session.scalars(select(db.text("id")).select_from(db.table("problems")))),
        "quest_id": list(db.session.scalars(select(db.text("id")).select_from(db.table("quests")))),
        "user_id": [c.id for c in town.children] + [town.adult.id, town.teacher.id],
        "member_id": [c.id for c in town.children] + [town.team.id, town.adult.id],
        "team_id": [town.team.id, town.adult_team.id],
        "class_id": [town.school_class_id],
        "event_id": [town.event_id],
        "webhook_id": [town.webhook_id],
        "campaign_id": list(db.session.scalars(select(Campaign.id))),
        "entry_id": list(db.session.scalars(select(EventEntry.id))),
        "board": ["participants", "teams"],
        "code": ["first-fix", "closer", "litter"],
        "category": ["litter", "graffiti"],
        "fmt": ["json", "xml", "csv", "geojson"],
        "dataset": ["problems", "quests", "fixes", "leaderboards", "campaigns"],
        "service_request_id": [str(p) for p in db.session.scalars(select(db.text("id")).select_from(db.table("problems")))],
        "token": [town.unsubscribe_token, "no-such-token"],
        "unknown": ["requests/1/updates.json"],
        "key": town.photo_keys,
        "locale": ["cy", "en"],
        "subscription_id": list(db.session.scalars(select(db.text("id")).select_from(db.table("subscriptions")))) or [1],
    }


# Query strings that open the interesting variants of some pages.
QUERIES = {
    "scoring.leaderboards": [{}, {"board": "participants", "window": "all"}, {"board": "participants", "window": "week"},
                             {"board": "teams", "window": "all"}, {"board": "participants", "window": "all",
                                                                    "team_id": "{team}"}],
    "api.leaderboard": [{}, {"window": "all"}, {"window": "all", "team_id": "{team}"}],
    "api.leaderboard_around": [{"window": "all"}],
    "challenges.problems": [{}, {"sort": "affected"}, {"status": "fixed"}],
    "feeds.area": [{"lat": "51.455", "lon": "-2.59", "radius_m": "5000"}, {"bbox": "-2.7,51.4,-2.5,51.5"}],
    "api.problems_geojson": [{}, {"bbox": "-2.7,51.4,-2.5,51.5"}],
    "api.nearby_problems": [{"lat": "51.455", "lon": "-2.59", "radius_m": "5000"}],
    "open311.request_list": [{}, {"extensions": "true"}],
    "open311.request_detail": [{}, {"extensions": "true"}],
}


def _urls(app, town: Town) -> tuple[list[str], set[str]]:
    values = _values(town)
    urls, skipped = [], set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        if rule.endpoint in SKIPPED or rule.endpoint.endswith("stream"):
            skipped.add(rule.endpoint)
            continue
        unknown = [arg for arg in rule.arguments if arg not in values]
        assert not unknown, f"{rule.rule}: add real values for {unknown} to the privacy crawl (tests/test_child_privacy.py)"
        names = sorted(rule.arguments)
        with app.test_request_context():
            for combo in itertools.product(*(values[name] for name in names)):
                path = app.url_map.bind("localhost").build(rule.endpoint, dict(zip(names, combo)))
                for query in QUERIES.get(rule.endpoint, [{}]):
                    query = {k: v.format(team=town.team.id) for k, v in query.items()}
                    urls.append(path + ("?" + urlencode(query) if query else ""))
    return urls, skipped


def _crawl(client, urls, needles) -> dict[str, list[str]]:
    found = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        body = response.get_data(as_text=True) if not response.mimetype.startswith("image/") else ""
        leaked = [needle for needle in needles if needle.lower() in body.lower()]
        if leaked:
            found[url] = leaked
    return found


def test_no_child_appears_in_any_public_route(app, client, login, town):
    urls, skipped = _urls(app, town)
    assert skipped == set(SKIPPED), "a route was skipped without being listed in SKIPPED"
    assert len(urls) > 100
    for viewer in (None, town.adult, make_user(name="Ursula Unrelated")):
        _as(client, login, viewer)
        assert _crawl(client, urls, town.needles) == {}, f"children visible to {viewer}"


def test_an_unrelated_organiser_sees_released_work_but_no_child_and_nothing_held(app, client, login, town):
    urls, _ = _urls(app, town)
    login(make_organiser(name="Otto Other-Organiser"))
    names = [n for n in town.needles if n not in EVIDENCE.values()]
    assert _crawl(client, urls, names + [EVIDENCE["held"], EVIDENCE["sent back"]]) == {}
    assert _crawl(client, urls, [EVIDENCE["released"]]) != {}  # released work reaches reviewers


def test_the_crawl_sees_real_content_so_its_silence_means_something(app, client, login, town):
    urls, _ = _urls(app, town)
    adults = ["Adele Adult", "Class 5B", "Broken glass in the bus shelter", "Swept by the school"]
    seen = {needle for found in _crawl(client, urls, adults).values() for needle in found}
    assert seen == set(adults)


def test_the_class_sees_its_children(client, login, town):
    zephyrine = town.children[0]
    login(town.teacher)
    assert "Zephyrine Quackenbush" in client.get(f"/people/{zephyrine.id}").get_data(as_text=True)
    assert "Clementine Snorkelwood" in client.get(f"/teams/{town.team.id}").get_data(as_text=True)
    assert EVIDENCE["held"] in client.get("/moderation").get_data(as_text=True)
    login(town.children[1])
    assert "Zephyrine Quackenbush" in client.get(f"/teams/{town.team.id}").get_data(as_text=True)


def test_childrens_photos_are_not_served_to_outsiders(client, login, town):
    assert len(town.photo_keys) == 3  # released, team, held (the sent-back one was deleted)
    for viewer in (None, town.adult):
        _as(client, login, viewer)
        for key in town.photo_keys:
            assert client.get(f"/photos/{key}.jpg").status_code == 404
    login(town.teacher)
    assert all(client.get(f"/photos/{key}.jpg").status_code == 200 for key in town.photo_keys)


def test_no_email_password_hash_token_or_ip_address_in_any_public_route(app, client, login, town):
    """Issue 7's personal-data crawl, for everyone (children are covered above): the
    adults' email addresses and password hashes, API tokens and secrets, webhook
    secrets and the address a report came from appear in no public page, feed, export
    or API answer, for a visitor or for an unrelated participant."""
    from accounts.services import issue_token
    from webhooks.models import Webhook
    from webhooks.services import secret_for, signing_key

    token = issue_token(db.session, user=town.adult, name="crawl")
    db.session.commit()
    _as(client, login, town.adult)
    reported = client.post("/problems/new", data={
        "title": "Loose paving slab", "description": "Trips people up.", "category": "other",
        "lat": "51.4561", "lon": "-2.5901"}, environ_overrides={"REMOTE_ADDR": "203.0.113.77"})
    assert reported.status_code == 302  # reported: its pages are in the crawl
    people = [town.adult, town.organiser, town.teacher]
    needles = ([person.email for person in people] + [person.password_hash for person in people]
               + [token, "203.0.113.77"]
               + [secret_for(hook, signing_key(app.config)) for hook in db.session.scalars(select(Webhook))])
    urls, _ = _urls(app, town)
    for viewer in (None, make_user(name="Pat Public")):
        _as(client, login, viewer)
        assert _crawl(client, urls, needles) == {}, f"personal data visible to {viewer}"
