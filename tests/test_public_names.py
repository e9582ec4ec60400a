"""Who is named in public: the two rules on the User model (`unnamed_in_public`, for lists of
people; `unnamed_as_author`, beside what someone posted or did), and every surface that
applies them. Each surface is checked for a child, someone hidden from the boards and a
profile a moderator hid, and for an ordinary adult, whose name must appear (so a surface
that names nobody cannot pass by accident)."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from accounts import kudos, teampage
from accounts.models import User
from api.serializers import public_name as api_author
from events.models import EventEntry
from events.services import public_members, publicly_listed
from extensions import db
from feeds.services import public_name as feed_author
from opendata.datasets import quest_rows
from scoring.dashboard import _namer, people_known_to, thanks_received
from tests.factories import approve, make_claim, make_organiser, make_problem, make_quest, make_team, make_user
from timeutil import utcnow
from webhooks.services import public_name as webhook_name

FLAGS = ("is_child", "hidden_from_boards", "profile_hidden")
NAME = "Secret Sam Person"
KINDS = {"plain adult": (), "child": ("is_child",), "hidden from boards": ("hidden_from_boards",),
         "hidden profile": ("profile_hidden",)}


@pytest.mark.parametrize("flags", list(itertools.product((False, True), repeat=3)),
                         ids=lambda flags: "-".join(f for f, on in zip(FLAGS, flags) if on) or "none")
def test_the_rules_agree_in_python_and_in_sql(app, ctx, flags):
    person = make_user()
    for flag, on in zip(FLAGS, flags):
        setattr(person, flag, on)
    db.session.commit()
    child, boards, hidden = flags
    in_sql = db.session.execute(select(User.unnamed_in_public, User.unnamed_as_author,
                                       select(User.id).where(User.id == person.id, User.unnamed_in_public)
                                       .scalar_subquery().is_not(None))
                                .where(User.id == person.id)).one()
    assert person.unnamed_in_public is (child or boards or hidden)
    assert person.unnamed_as_author is (child or hidden)
    assert (bool(in_sql[0]), bool(in_sql[1]), in_sql[2]) == (person.unnamed_in_public, person.unnamed_as_author,
                                                             person.unnamed_in_public)
    assert db.session.scalar(select(User.id).where(User.id == person.id, ~User.unnamed_as_author)) == \
        (None if person.unnamed_as_author else person.id)


def flag(person: User, kind: str) -> None:
    """Turn the person into `kind` after everything was built as an ordinary adult (the
    services refuse children most of what the surfaces show; the surfaces must still hide them)."""
    for name in KINDS[kind]:
        setattr(person, name, True)
    db.session.commit()


def _fix(fixer: User, organiser: User | None = None, **quest):
    organiser = organiser or make_organiser()
    return approve(organiser, make_claim(fixer, make_quest(organiser, **quest), submit=True))


# --- lists of people: named only when not `unnamed_in_public` ---------------------------------

def kudos_on_the_fix(person, kind, client):
    claim = _fix(make_user())
    kudos.give_kudos(db.session, actor=person, claim=claim)
    db.session.commit()
    flag(person, kind)
    return " ".join(kudos.for_claim(db.session, claim, make_user()).names)


def kudos_on_the_profile(person, kind, client):
    fixer = make_user()
    kudos.give_kudos(db.session, actor=person, claim=_fix(fixer))
    db.session.commit()
    flag(person, kind)
    return " ".join(t.giver or "" for t in kudos.for_profile(db.session, fixer, None).recent)


def thanks_on_the_dashboard(person, kind, client):
    fixer = make_user()
    kudos.give_kudos(db.session, actor=person, claim=_fix(fixer))
    db.session.commit()
    flag(person, kind)
    name = _namer(fixer, people_known_to(db.session, fixer.id))
    return " ".join(t.giver or "" for t in thanks_received(db.session, fixer, name))


def team_members_to_outsiders(person, kind, client):
    team = make_team(make_user(), members=(person,))
    flag(person, kind)
    shown, _ = teampage.visible_members(db.session, team, viewer_is_member=False)
    return " ".join(m.name for m in shown)


def team_page_activity(person, kind, client):
    team = make_team(make_user(), members=(person,))
    _fix(person, title="Paint the railings")
    flag(person, kind)
    page = client.get(f"/teams/{team.id}").get_data(as_text=True)
    assert "Paint the railings" in page or kind != "plain adult"
    return page


def event_solo_entrant(person, kind, client):
    flag(person, kind)
    return NAME if publicly_listed(EventEntry(user=person)) else ""


def event_team_members(person, kind, client):
    team = make_team(make_user(name="Captain Kim"), members=(person,))
    flag(person, kind)
    return " ".join(public_members(db.session, [EventEntry(id=1, team_id=team.id)]).get(1, []))


def open_data_quest_organiser(person, kind, client):
    person.role = "organiser"
    db.session.commit()
    make_quest(person)
    flag(person, kind)
    return " ".join(str(row) for row in quest_rows(db.session, now=utcnow(), zone="UTC"))


def webhook_participant(person, kind, client):
    flag(person, kind)
    return webhook_name(person) or ""


def public_leaderboard(person, kind, client):
    _fix(person)
    flag(person, kind)
    return client.get("/leaderboards").get_data(as_text=True)


def campaign_contributors(person, kind, client):
    from campaigns import services as campaigns

    campaign = _campaign(make_organiser())
    problem = make_problem(make_user())
    _fix(person, problem_id=problem.id)
    flag(person, kind)
    return " ".join(p.display_name for p, _ in campaigns.contributors(db.session, campaign).people)


LISTS = [kudos_on_the_fix, kudos_on_the_profile, thanks_on_the_dashboard, team_members_to_outsiders,
         team_page_activity, event_solo_entrant, event_team_members, open_data_quest_organiser,
         webhook_participant, public_leaderboard, campaign_contributors]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("surface", LISTS, ids=lambda f: f.__name__)
def test_lists_of_people_never_name_anyone_unnamed_in_public(app, client, surface, kind):
    person = make_user(name=NAME)
    shown = surface(person, kind, client)
    assert (NAME in shown) is (kind == "plain adult")


# --- beside what someone did: a stand-in when `unnamed_as_author` -----------------------------

def api_update_author(person, kind, client):
    flag(person, kind)
    return api_author(person) or ""


def feed_author_name(person, kind, client):
    flag(person, kind)
    return db.session.scalar(select(feed_author()).where(User.id == person.id))


def problem_page_reporter(person, kind, client):
    problem = make_problem(person)
    flag(person, kind)
    return client.get(f"/problems/{problem.id}").get_data(as_text=True)


def claim_page_reviewer(person, kind, client, login):
    person.role = "organiser"
    db.session.commit()
    fixer = make_user()
    claim = _fix(fixer, organiser=person)
    flag(person, kind)
    login(fixer)
    return client.get(f"/claims/{claim.id}").get_data(as_text=True)


def _campaign(organiser):
    from campaigns import services as campaigns
    from maps.area import BBox

    campaign = campaigns.create_campaign(db.session, actor=organiser, title="Clean the ward", why="Because.",
                                         area=BBox(min_lon=-2.7, min_lat=51.4, max_lon=-2.5, max_lat=51.5), goal=5,
                                         categories=(), all_categories=("pothole",),
                                         ends_at=utcnow().replace(year=utcnow().year + 1))
    db.session.commit()
    return campaign


def campaign_page_and_api_organiser(person, kind, client):
    person.role = "organiser"
    db.session.commit()
    campaign = _campaign(person)
    flag(person, kind)
    return (client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
            + client.get(f"/api/v1/campaigns/{campaign.id}").get_data(as_text=True))


def _update_by(person, kind):
    from tests.notifications.helpers import add_problem, add_update, follow

    problem, follower = add_problem(make_user()), make_user()
    follow(follower, problem, delivery="in_app")
    entry = add_update(problem, person, kind="comment", body="Cones are out.", publish_it=False)
    flag(person, kind)
    return problem, follower, entry


def inbox_update_author(person, kind, client, login):
    from notifications.services import fan_out

    _, follower, entry = _update_by(person, kind)
    fan_out(db.session, update_id=entry.id)
    db.session.commit()
    login(follower)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Cones are out." in page
    return page


def _email_parts(person, kind, client):
    from notifications.mail import update_email

    problem, follower, entry = _update_by(person, kind)
    with client.application.test_request_context():
        message = update_email(to=follower.email, user_id=follower.id, subscription_id=None, update=entry,
                               problem=problem, headline="An update", subscription_line=None)
    parts = {part.get_content_subtype(): part.get_content() for part in message.walk()
             if part.get_content_maintype() == "text"}
    assert set(parts) == {"plain", "html"} and all("Cones are out." in part for part in parts.values())
    return parts


def email_text_update_author(person, kind, client, login):
    return _email_parts(person, kind, client)["plain"]


def email_html_update_author(person, kind, client, login):
    return _email_parts(person, kind, client)["html"]


AUTHORED = [api_update_author, feed_author_name, problem_page_reporter, claim_page_reviewer,
            campaign_page_and_api_organiser, inbox_update_author,
            email_text_update_author, email_html_update_author]


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("surface", AUTHORED, ids=lambda f: f.__name__)
def test_what_someone_did_names_them_unless_unnamed_as_author(app, client, login, surface, kind):
    person = make_user(name=NAME)
    with_login = (claim_page_reviewer, inbox_update_author, email_text_update_author, email_html_update_author)
    shown = surface(*((person, kind, client, login) if surface in with_login else (person, kind, client)))
    assert (NAME in shown) is (kind in ("plain adult", "hidden from boards"))


# --- pages only some people read: a child's name only to their class --------------------------

@pytest.mark.parametrize("kind", list(KINDS))
def test_an_events_solo_entrants_are_named_to_the_public_and_its_organisers_by_the_rules(app, client, login, kind):
    from events import services as events
    from tests.events_helpers import make_event

    organiser = make_organiser()
    event = make_event(organiser, mode="solo")
    person = make_user(name=NAME)
    events.register(db.session, actor=person, event=event)
    db.session.commit()
    flag(person, kind)
    assert (NAME in client.get(f"/events/{event.id}").get_data(as_text=True)) is (kind == "plain adult")
    login(organiser)  # the organiser sees every entry, but a child only as "a pupil"
    page = client.get(f"/events/{event.id}").get_data(as_text=True)
    assert (NAME in page) is (kind != "child") and ("a pupil" in page) is (kind == "child")
