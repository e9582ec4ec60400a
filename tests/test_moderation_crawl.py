"""The moderation crawl: in the child-privacy crawl's town (tests/test_child_privacy.py), one
item of each kind is hidden (a problem with its photo, an organiser's comment, a claim's
evidence, a profile) and one of each postable kind is held by the word list; then every
public GET route (pages, lists, the map and GeoJSON, Atom feeds, the JSON API, Open311, open
data downloads, exports, nearby suggestions) is visited as a visitor and as unrelated
participants, and none of their text may appear. Before hiding, the same crawl must find
them (so its silence means something); after restoring, they are back."""
from __future__ import annotations

from sqlalchemy import select

from challenges.models import Claim, Photo, ProblemUpdate
from extensions import db
from moderation import services
from tests.childsafe.helpers import upload
from tests.factories import approve, make_organiser, make_quest, make_user
from tests.media.samples import photo_with_gps
from tests.notifications.helpers import drain
from tests.test_child_privacy import _as, _crawl, _urls, town  # noqa: F401  (the fixture)

HIDDEN = {
    "problem": "Quarrelsome quokka scrawled on the library",
    "update": "Vituperative vole comment from the council",
    "evidence": "Mendacious marmot evidence text",
    "profile": "Obnoxious Ocelot",
}
HELD = {
    "problem": "Held porcupine report near the ferry",
    "update": "Held porcupine comment on the bins",
    "evidence": "Held porcupine evidence about the cans",
}
REPORT = {"category": "graffiti", "lat": "51.4612", "lon": "-2.6021", "address": ""}


def _seed(app, client, login, town):
    """The items to hide (made public first) and the held posts."""
    organiser, adult = town.organiser, town.adult
    ocelot = make_user(name=HIDDEN["profile"])
    login(ocelot)  # the profile: a reporter with points on the boards
    client.post("/problems/new", data={**REPORT, "title": HIDDEN["problem"], "description": "Rude words",
                                       "photos": [upload(photo_with_gps())]}, content_type="multipart/form-data")
    problem_id = db.session.scalar(select(db.text("id")).select_from(db.table("problems")).where(
        db.text("title = :t")).params(t=HIDDEN["problem"]))
    login(organiser)
    client.post(f"/problems/{problem_id}/comments", data={"body": "Noted, thank you."})
    glass_id = db.session.scalar(select(db.text("id")).select_from(db.table("problems")).where(
        db.text("title = 'Broken glass in the bus shelter'")))
    client.post(f"/problems/{glass_id}/comments", data={"body": HIDDEN["update"]})
    comment_id = db.session.scalar(select(ProblemUpdate.id).where(ProblemUpdate.body == HIDDEN["update"]))
    quest = make_quest(organiser, title="Scrub the library wall", problem_id=problem_id)
    login(ocelot)
    client.post(f"/quests/{quest.id}/claim", data={})
    claim = db.session.scalar(select(Claim).where(Claim.user_id == ocelot.id))
    client.post(f"/claims/{claim.id}/submit", data={"evidence": HIDDEN["evidence"]}, content_type="multipart/form-data")
    approve(organiser, claim)
    # The profile thanks someone: its name on their fix and their profile must go with it.
    thanked = db.session.scalar(select(Claim.id).where(Claim.user_id == adult.id, Claim.status == "approved"))
    assert client.post(f"/claims/{thanked}/kudos", data={}).status_code == 302
    # Held by the word list: a report, a comment, evidence.
    app.config["MODERATION_WORDS"] = ("porcupine",)
    hector = make_user(name="Hector Held")  # not one of the crawl's viewers: authors see their own held posts
    login(hector)
    client.post("/problems/new", data={**REPORT, "lat": "51.47", "title": HELD["problem"], "description": "x"})
    login(organiser)
    client.post(f"/problems/{glass_id}/comments", data={"body": HELD["update"]})
    held_quest = make_quest(organiser, title="Count the ferry cans")
    login(hector)
    client.post(f"/quests/{held_quest.id}/claim", data={})
    held_claim = db.session.scalar(select(Claim).where(Claim.quest_id == held_quest.id))
    client.post(f"/claims/{held_claim.id}/submit", data={"evidence": HELD["evidence"]},
                content_type="multipart/form-data")
    app.config["MODERATION_WORDS"] = ()
    drain(app)
    photo_key = db.session.scalar(select(Photo.storage_key).where(Photo.problem_id == problem_id))
    return {"problem": problem_id, "update": comment_id, "evidence": claim.id, "profile": ocelot.id}, photo_key


def _everything(client, login, urls, viewers, needles):
    found = {}
    for viewer in viewers:
        _as(client, login, viewer)
        for url, leaked in _crawl(client, urls, needles).items():
            found.setdefault(url, set()).update(leaked)
    return found


def test_hidden_and_held_content_is_on_no_public_surface(app, client, login, town):
    ids, photo_key = _seed(app, client, login, town)
    urls, _ = _urls(app, town)
    urls += [f"/problems/{ids['problem']}", f"/people/{ids['profile']}", f"/claims/{ids['evidence']}",
             f"/api/v1/problems/{ids['problem']}", f"/feeds/problems/{ids['problem']}.atom",
             f"/open311/v2/requests/{ids['problem']}.json", "/api/v1/problems/nearby?lat=51.4612&lon=-2.6021",
             "/problems?sort=affected", "/data/problems.csv", "/data/problems.geojson"]
    viewers = (None, town.adult, make_user(name="Ursula Unrelated"))
    before = {n for leaked in _everything(client, login, urls, viewers, list(HIDDEN.values())).values() for n in leaked}
    assert before >= {HIDDEN["problem"], HIDDEN["update"], HIDDEN["profile"]}  # the crawl sees them first
    assert client.get(f"/photos/{photo_key}.jpg").status_code == 200

    moderator = make_organiser(name="Mo Moderator")
    for kind, object_id in ids.items():
        services.hide(db.session, actor=moderator, kind=kind, object_id=object_id, reason="Abusive")
    db.session.commit()
    leaks = _everything(client, login, urls, viewers, list(HIDDEN.values()) + list(HELD.values()))
    assert leaks == {}, "hidden or held content on a public surface"
    for viewer in viewers:
        _as(client, login, viewer)
        assert client.get(f"/photos/{photo_key}.jpg").status_code == 404

    for kind, object_id in ids.items():
        services.restore(db.session, actor=moderator, kind=kind, object_id=object_id, reason="Reviewed again")
    db.session.commit()
    after = {n for leaked in _everything(client, login, urls, viewers[:1], list(HIDDEN.values())).values()
             for n in leaked}
    assert after >= {HIDDEN["problem"], HIDDEN["update"], HIDDEN["profile"]}
