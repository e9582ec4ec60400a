"""The OpenAPI operations and schemas of api/account.py (your tokens, what you follow),
api/invites.py (team invite links) and api/webhooks.py (webhooks), an area module of
api/openapi.py (listed in its AREAS)."""
from __future__ import annotations

from accounts.services import MAX_LIVE_TOKENS
from api.openapi import (BOOLEAN, DATETIME, INTEGER, LINK, NUMBER, STRING, Operation, Schema, enum, nullable, obj,
                         page_of, page_params, path_id, ref)
from challenges.models import Delivery, SubscriptionKind
from webhooks.models import DeliveryState
from webhooks.services import DESCRIPTION_MAX, EVENTS, PING, URL_MAX

TAGS = ("webhooks",)

INVITE_PROPERTIES = {
    "id": INTEGER, "team_id": INTEGER, "created_at": DATETIME, "expires_at": nullable(DATETIME),
    "expired": BOOLEAN, "single_use": BOOLEAN, "uses": {"type": "integer", "minimum": 0},
    "revoked_at": {**nullable(DATETIME), "description": "When the captain withdrew it (null in the list)."},
}
WEBHOOK_PROPERTIES = {
    "id": INTEGER, "url": STRING, "description": nullable(STRING),
    "events": {"type": "array", "items": enum(list(EVENTS))}, "enabled": BOOLEAN,
    "disabled_at": nullable(DATETIME), "disabled_reason": nullable(STRING),
    "allow_private": {**BOOLEAN, "description": "An admin let this URL resolve to private addresses."},
    "owner": obj({"id": INTEGER, "name": STRING}), "created_at": DATETIME, "link": LINK,
}
SECRET = {"type": "string", "pattern": "^whsec_[0-9a-f]{64}$",
          "description": "The signing secret (HMAC-SHA256 key of FixQuest-Signature), in this answer only."}
DELIVERY = obj({
    "id": INTEGER, "event": enum([*EVENTS, PING]), "state": enum(DeliveryState),
    "created_at": DATETIME, "delivered_at": nullable(DATETIME),
    "next_attempt_at": {**nullable(DATETIME), "description": "When it is tried next (pending ones only)."},
    "attempts": {"type": "array", "items": obj({
        "attempted_at": DATETIME, "status_code": nullable(INTEGER),
        "error": {**nullable(STRING), "description": "Why no answer came (null when one did)."},
        "duration_ms": INTEGER})},
})
AREA = obj({"kind": {"const": "circle"}, "lat": NUMBER, "lon": NUMBER, "radius_m": NUMBER})
BOX = obj({"kind": {"const": "bbox"}, "bbox": {"type": "array", "items": NUMBER, "minItems": 4, "maxItems": 4,
                                               "description": "minlon, minlat, maxlon, maxlat"}})
TOKEN_PARAM = {"name": "token", "in": "path", "required": True, "description": "The invite link's token.",
               "schema": {"type": "string", "minLength": 1, "maxLength": 200}}

SCHEMAS: dict[str, Schema] = {
    "InviteLink": obj(INVITE_PROPERTIES),
    "InviteLinkPage": page_of("InviteLink"),
    "NewInviteLink": obj({**INVITE_PROPERTIES,
                          "token": {**STRING, "description": "Shown once: only its digest is kept."},
                          "link": {"type": "string", "format": "uri",
                                   "description": "The invite page to share (holds the token)."}}),
    "ApiTokenInfo": obj({"id": INTEGER, "name": STRING, "scope": enum(["read", "write"]), "created_at": DATETIME,
                         "last_used_at": nullable(DATETIME), "revoked_at": nullable(DATETIME)}),
    "ApiTokenPage": page_of("ApiTokenInfo"),
    "MySubscription": obj({
        "id": INTEGER, "kind": enum(SubscriptionKind), "delivery": enum(Delivery),
        "description": {**STRING, "description": "What it follows, in words (as the settings page)."},
        "problem_id": nullable(INTEGER), "category": nullable(STRING),
        "area": {"anyOf": [AREA, BOX, {"type": "null"}]}, "created_at": DATETIME, "url": LINK}),
    "MySubscriptionPage": page_of("MySubscription"),
    "SubscriptionStopped": obj({"id": INTEGER, "following": {"const": False}}),
    "Webhook": obj(WEBHOOK_PROPERTIES),
    "WebhookPage": page_of("Webhook"),
    "NewWebhook": obj({**WEBHOOK_PROPERTIES, "secret": SECRET}),
    "WebhookDetail": obj({**WEBHOOK_PROPERTIES, "deliveries": {"type": "array", "items": ref("WebhookDelivery"),
                                                              "description": "The latest, newest first."}}),
    "WebhookDelivery": DELIVERY,
    "WebhookSecret": obj({"webhook_id": INTEGER, "secret": SECRET}),
    "WebhookDeleted": obj({"id": INTEGER, "deleted": {"const": True}}),
}


def operations(categories: list[str]) -> list[Operation]:
    team_id = path_id("team_id", "team")
    invite_id = path_id("invite_id", "invite link")
    subscription_id = path_id("subscription_id", "subscription")
    webhook_id = path_id("webhook_id", "webhook")
    body = obj  # request bodies: every field optional unless listed, unknown fields ignored
    delivery = enum(Delivery)
    return [
        # team invite links
        Operation("get", "/teams/{team_id}/invites", "The team's invite links (captain)", "teams",
                  ref("InviteLinkPage"), scope="read", params=(team_id, *page_params()), errors=(403, 422),
                  description="Links not withdrawn, newest first, expired and used ones too; never their tokens."),
        Operation("post", "/teams/{team_id}/invites", "Make an invite link (captain)", "teams", ref("NewInviteLink"),
                  201, scope="write", params=(team_id,),
                  body=body({"expires_in_days": {"enum": [1, 7, 30]}, "single_use": BOOLEAN},
                            optional=("expires_in_days", "single_use"), closed=False),
                  body_required=False, errors=(403, 409, 422),
                  description="No expiry unless asked; single_use: it stops once someone joins with it. The "
                              "token and link are in this answer only. A closed team: 409."),
        Operation("delete", "/teams/{team_id}/invites/{invite_id}", "Withdraw an invite link (captain)", "teams",
                  ref("InviteLink"), scope="write", params=(team_id, invite_id), errors=(403, 409),
                  description="It stops working at once; another team's link: 404."),
        Operation("get", "/teams/invites/{token}", "The team an invite link is for", "teams", ref("Team"),
                  params=(TOKEN_PARAM,), errors=(410,),
                  description="Unknown link: 404; expired, used (single use) or withdrawn: 410, saying which."),
        Operation("post", "/teams/invites/{token}/accept", "Join a team with an invite link", "teams", ref("Team"),
                  scope="write", params=(TOKEN_PARAM,), errors=(403, 409, 410),
                  description="Already a member, a full or closed team: 409; a used, expired or withdrawn "
                              "link: 410."),
        # your API tokens
        Operation("get", "/tokens", "Your API tokens (never the tokens themselves)", "tokens", ref("ApiTokenPage"),
                  scope="read", params=tuple(page_params()), errors=(422,),
                  description=f"Live ones first, newest first; revoked ones stay listed. At most {MAX_LIVE_TOKENS} "
                              "live tokens."),
        Operation("delete", "/tokens/{token_id}", "Revoke one of your API tokens", "tokens", ref("ApiTokenInfo"),
                  scope="write", params=(path_id("token_id", "token"),),
                  description="It stops working at once (this one too, if it is the token you send). Someone "
                              "else's token: 404."),
        # what you follow
        Operation("get", "/me/subscriptions", "Everything you follow", "me", ref("MySubscriptionPage"),
                  scope="read", params=tuple(page_params()), errors=(422,),
                  description="Problems, areas and categories, with how each is delivered."),
        Operation("get", "/me/subscriptions/{subscription_id}", "One thing you follow", "me", ref("MySubscription"),
                  scope="read", params=(subscription_id,), description="Someone else's: 404."),
        Operation("patch", "/me/subscriptions/{subscription_id}", "Change how you are told", "me",
                  ref("MySubscription"), scope="write", params=(subscription_id,),
                  body=body({"delivery": delivery}, closed=False), errors=(422,),
                  description="immediate (an email at once), digest (one daily email) or in_app. Someone "
                              "else's: 404."),
        Operation("delete", "/me/subscriptions/{subscription_id}", "Stop following", "me",
                  ref("SubscriptionStopped"), scope="write", params=(subscription_id,),
                  description="Emails it earned that have not gone out are cancelled. Someone else's: 404."),
        Operation("post", "/me/follows", "Follow an area or a category", "me", ref("MySubscription"), 201,
                  scope="write", errors=(403, 422),
                  body=body({"kind": enum(["area", "category"]), "lat": NUMBER, "lon": NUMBER, "radius_m": NUMBER,
                             "bbox": {"type": "array", "items": NUMBER, "minItems": 4, "maxItems": 4,
                                      "description": "minlon, minlat, maxlon, maxlat (e.g. a ward)"},
                             "category": enum(categories), "delivery": delivery},
                            optional=("lat", "lon", "radius_m", "bbox", "category", "delivery"), closed=False),
                  description="An area is a circle (lat, lon, radius_m) or a box (bbox); a category one of the "
                              "site's. Following a category twice answers the first subscription. A child's "
                              "account: 403."),
        # webhooks
        Operation("get", "/webhooks", "Your webhooks (an admin: everyone's)", "webhooks", ref("WebhookPage"),
                  scope="read", params=tuple(page_params()), errors=(403, 422),
                  description="Organisers and admins; others 403. Never the signing secret."),
        Operation("post", "/webhooks", "Register a webhook", "webhooks", ref("NewWebhook"), 201, scope="write",
                  body=body({"url": {"type": "string", "maxLength": URL_MAX}, "events": {
                      "type": "array", "items": enum(list(EVENTS)), "minItems": 1},
                      "description": nullable({"type": "string", "maxLength": DESCRIPTION_MAX}),
                      "allow_private": BOOLEAN}, optional=("description", "allow_private"), closed=False),
                  errors=(403, 409, 422),
                  description="An http(s) URL on the public internet (checked as on the page: private, loopback "
                              "and link-local addresses are 422 unless an admin allows them). The signing "
                              "secret is in this answer only. Too many webhooks: 409."),
        Operation("get", "/webhooks/{webhook_id}", "A webhook with its delivery log", "webhooks",
                  ref("WebhookDetail"), scope="read", params=(webhook_id,), errors=(403,),
                  description="Someone else's (unless you are an admin): 404."),
        Operation("delete", "/webhooks/{webhook_id}", "Delete a webhook and its delivery log", "webhooks",
                  ref("WebhookDeleted"), scope="write", params=(webhook_id,)),
        Operation("post", "/webhooks/{webhook_id}/secret", "Make a new signing secret", "webhooks",
                  ref("WebhookSecret"), scope="write", params=(webhook_id,),
                  description="The old secret stops signing at once; the new one is in this answer only."),
        Operation("post", "/webhooks/{webhook_id}/ping", "Send a test ping", "webhooks", ref("WebhookDelivery"),
                  scope="write", params=(webhook_id,),
                  description="Queued at once, even to a disabled webhook; it shows in the delivery log."),
        Operation("post", "/webhooks/{webhook_id}/enable", "Enable a disabled webhook again", "webhooks",
                  ref("Webhook"), scope="write", params=(webhook_id,), errors=(409,),
                  description="Its failure count starts again and waiting deliveries go out. Enabled already: 409."),
        Operation("post", "/webhooks/{webhook_id}/allow-private", "Allow or refuse private addresses (admins)",
                  "webhooks", ref("Webhook"), scope="write", params=(webhook_id,),
                  body=body({"allow_private": BOOLEAN}, closed=False), errors=(422,),
                  description="Organisers: 403."),
    ]
