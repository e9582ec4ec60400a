"""Open Badges 3.0 documents for earned badges: the credential, its achievement, its issuer.

Every earned badge can be downloaded as an OpenBadgeCredential (a W3C Verifiable
Credential, JSON-LD); the achievement and the issuer Profile it names are served at
stable URLs too, so a reader can fetch them. See README "Badges, levels and streaks".

- The recipient is never an email. `credentialSubject.identifier` holds a hashed
  IdentityObject of the person's public profile URL, as the spec defines it:
  "sha256$" + hex(sha256(profile_url + salt)), identityType "ext:profileUrl" (the
  spec's identifier types have no URL type; "ext:" terms are its extension point). The
  salt is derived from the app's secret, the person and the badge, so a credential
  downloaded twice is the same document.
- The credential is not signed (no Data Integrity proof, no VC-JWT): it is a faithful
  hosted record that anyone can check against the site, not a portable verifiable one.

Pure builders: the web layer hands in absolute URLs through `Links`.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from urllib.parse import urlsplit

from werkzeug.routing import Map

from scoring.badges import Badge
from timeutil import isoformat

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
MEDIA_TYPE = "application/ld+json"
IDENTITY_TYPE = "ext:profileUrl"
ISSUER_NAME = "FixQuest"


class Links:
    """Absolute URLs of the documents, built from the app's routes against one base URL
    (PUBLIC_URL, or the request's root), so every id in a document resolves."""

    def __init__(self, url_map: Map, base_url: str):
        base = urlsplit(base_url)
        self._adapter = url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http")

    def _url(self, endpoint: str, **values) -> str:
        return self._adapter.build(endpoint, values, force_external=True)

    def site(self) -> str:
        return self._url("web.home")

    def issuer(self) -> str:
        return self._url("profiles.issuer")

    def achievement(self, code: str) -> str:
        return self._url("profiles.achievement", code=code)

    def credential(self, user_id: int, code: str) -> str:
        return self._url("profiles.badge_credential", user_id=user_id, code=code)

    def profile(self, user_id: int) -> str:
        return self._url("profiles.profile", user_id=user_id)

    def image(self, badge: Badge) -> str:
        return self._url("static", filename=f"badges/{badge.image}")


def award_salt(secret_key: str, *, user_id: int, code: str) -> str:
    """A stable salt per award: the same credential every time it is downloaded."""
    message = f"openbadges-salt:{user_id}:{code}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def identity_hash(identity: str, salt: str) -> str:
    """The Open Badges IdentityHash: sha256 over the identity with the salt appended."""
    return "sha256$" + hashlib.sha256((identity + salt).encode("utf-8")).hexdigest()


def issuer_profile(links: Links, *, name: str = ISSUER_NAME) -> dict:
    return {"id": links.issuer(), "type": ["Profile"], "name": name, "url": links.site()}


def achievement(links: Links, badge: Badge, *, issuer_name: str = ISSUER_NAME) -> dict:
    return {
        "id": links.achievement(badge.code),
        "type": ["Achievement"],
        "achievementType": "Badge",
        "name": badge.name,
        "description": badge.description,
        "criteria": {"narrative": badge.criteria},
        "image": {"id": links.image(badge), "type": "Image", "caption": badge.name},
        "creator": issuer_profile(links, name=issuer_name),
    }


def credential(links: Links, badge: Badge, *, user_id: int, awarded_at: datetime, salt: str,
               issuer_name: str = ISSUER_NAME) -> dict:
    """The OpenBadgeCredential for one earned badge."""
    return {
        "@context": CONTEXT,
        "id": links.credential(user_id, badge.code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer_profile(links, name=issuer_name),
        "validFrom": isoformat(awarded_at),
        "name": badge.name,
        "description": badge.description,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{
                "type": "IdentityObject",
                "identityHash": identity_hash(links.profile(user_id), salt),
                "identityType": IDENTITY_TYPE,
                "hashed": True,
                "salt": salt,
            }],
            "achievement": achievement(links, badge, issuer_name=issuer_name),
        },
    }


def standalone(document: dict) -> dict:
    """An achievement or issuer document served on its own: with its JSON-LD context."""
    return {"@context": CONTEXT, **document}
