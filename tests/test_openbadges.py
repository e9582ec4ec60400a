"""Open Badges 3.0 credentials, achievements and the issuer profile; the badge images."""
from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from extensions import db
from scoring import openbadges
from scoring.badges import catalogue
from scoring.models import BadgeAward
from tests.factories import approve, make_claim, make_organiser, make_problem, make_quest, make_user

CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
BADGES_DIR = Path(__file__).resolve().parent.parent / "static" / "badges"


@pytest.fixture
def earner(ctx):
    organiser, player = make_organiser(), make_user(email="earner@example.org")
    quest = make_quest(organiser, problem_id=make_problem(organiser, category="litter").id)
    approve(organiser, make_claim(player, quest, submit=True))
    return player


def download(client, user_id: int, code: str) -> dict:
    response = client.get(f"/people/{user_id}/badges/{code}.json")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="fixquest-{code}-{user_id}.json"'
    return json.loads(response.get_data(as_text=True))


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_credential_is_an_open_badge_credential(client, earner):
    doc = download(client, earner.id, "first-fix")
    assert doc["@context"] == CONTEXT
    assert doc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert doc["id"] == f"http://localhost/people/{earner.id}/badges/first-fix.json"
    assert doc["name"] == "First Fix"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["validFrom"])
    awarded = db.session.scalar(db.select(BadgeAward.awarded_at).filter_by(user_id=earner.id, code="first-fix"))
    assert doc["validFrom"] == awarded.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert doc["issuer"] == {"id": "http://localhost/badges/issuer.json", "type": ["Profile"],
                             "name": "FixQuest", "url": "http://localhost/"}
    subject = doc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    achievement = subject["achievement"]
    assert achievement["id"] == "http://localhost/badges/first-fix/achievement.json"
    assert achievement["type"] == ["Achievement"]
    assert achievement["name"] == "First Fix" and achievement["description"]
    assert achievement["criteria"]["narrative"]
    assert achievement["image"] == {"id": "http://localhost/static/badges/first-fix.svg", "type": "Image",
                                    "caption": "First Fix"}


def test_recipient_is_a_salted_hash_of_the_profile_url_never_an_email(client, earner):
    doc = download(client, earner.id, "first-fix")
    (identity,) = doc["credentialSubject"]["identifier"]
    assert identity["type"] == "IdentityObject" and identity["hashed"] is True
    assert identity["identityType"] == "ext:profileUrl"
    profile_url = f"http://localhost/people/{earner.id}"
    expected = hashlib.sha256((profile_url + identity["salt"]).encode()).hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"
    assert "id" not in doc["credentialSubject"]
    text = json.dumps(doc)
    assert "earner@example.org" not in text and not EMAIL.search(text)


def test_the_same_credential_every_download(client, earner):
    assert download(client, earner.id, "first-fix") == download(client, earner.id, "first-fix")
    other = download(client, earner.id, "category-litter")["credentialSubject"]["identifier"][0]
    assert other["salt"] != download(client, earner.id, "first-fix")["credentialSubject"]["identifier"][0]["salt"]


def test_identity_hash_matches_the_specs_example():
    # Open Badges 3.0, IdentityHash: 'a@example.com' salted with 'Kosher'.
    assert openbadges.identity_hash("a@example.com", "Kosher") == (
        "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399")


def test_every_id_in_a_credential_resolves(client, earner):
    doc = download(client, earner.id, "category-litter")
    achievement = doc["credentialSubject"]["achievement"]
    served = client.get(path_of(achievement["id"]))
    assert served.status_code == 200 and served.mimetype == "application/ld+json"
    served_doc = served.get_json(force=True)
    assert served_doc == {"@context": CONTEXT, **achievement}
    issuer = client.get(path_of(doc["issuer"]["id"]))
    assert issuer.status_code == 200 and issuer.mimetype == "application/ld+json"
    assert issuer.get_json(force=True) == {"@context": CONTEXT, **doc["issuer"]}
    image = client.get(path_of(achievement["image"]["id"]))
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    image.close()
    assert client.get(path_of(doc["id"])).status_code == 200
    assert client.get(path_of(doc["issuer"]["url"])).status_code == 200


def test_public_url_is_the_base_of_every_id(app, client, earner, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://fixquest.example.org/town")
    doc = download(client, earner.id, "first-fix")
    assert doc["id"] == f"https://fixquest.example.org/town/people/{earner.id}/badges/first-fix.json"
    assert doc["issuer"]["id"] == "https://fixquest.example.org/town/badges/issuer.json"
    image = doc["credentialSubject"]["achievement"]["image"]["id"]
    assert image == "https://fixquest.example.org/town/static/badges/first-fix.svg"


def test_only_earned_badges_of_real_people_download(client, earner):
    assert client.get(f"/people/{earner.id}/badges/five-fixes.json").status_code == 404
    assert client.get(f"/people/{earner.id}/badges/no-such-badge.json").status_code == 404
    assert client.get(f"/people/{earner.id + 1000}/badges/first-fix.json").status_code == 404


def test_achievements_are_served_for_the_catalogue_only(client, ctx):
    for code in ("first-fix", "category-graffiti", "closer", "streak-12"):
        assert client.get(f"/badges/{code}/achievement.json").status_code == 200, code
    assert client.get("/badges/category-bananas/achievement.json").status_code == 404
    assert client.get("/badges/nothing/achievement.json").status_code == 404


def test_a_retired_category_badge_still_resolves_for_its_holders(client, ctx):
    player = make_user()
    db.session.add(BadgeAward(user_id=player.id, code="category-street-lighting"))
    db.session.commit()
    doc = download(client, player.id, "category-street-lighting")
    served = client.get(path_of(doc["credentialSubject"]["achievement"]["id"]))
    assert served.status_code == 200
    assert served.get_json(force=True)["name"] == "Street Lighting Fixer"


@pytest.mark.parametrize("image", sorted({badge.image for badge in catalogue().values()}))
def test_badge_images_are_accessible_self_contained_svg(image):
    path = BADGES_DIR / image
    root = ET.parse(path).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert root.get("role") == "img"
    title = root.find(f"{ns}title")
    assert title is not None and title.text.strip()
    assert list(root)[0] is title  # the accessible name comes first
    text = path.read_text()
    assert "<script" not in text.lower() and "href" not in text and "url(" not in text
    assert not re.search(r"\bon\w+=", text)  # no event handlers
    assert all(url == "http://www.w3.org/2000/svg" for url in re.findall(r"https?://[^\"' )]+", text))
