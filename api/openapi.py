"""The OpenAPI 3.1 document of the JSON API, served at GET /api/v1/openapi.json.

Hand-written data, kept true to the code by tests (tests/api/test_openapi.py):
  * every rule of the app's url_map under /api/v1 has an operation here with the same
    methods, and every operation here has a rule (the failure names what is missing);
  * every response the API tests get is validated against the operation's schema for its
    status, and schemathesis fuzzes the API from this document (tests/api/test_fuzz.py).

To document a new route, add one `Operation` to core_operations() (near its neighbours), or to
its area's module named in AREAS, and, if
its JSON is new, its schema to SCHEMAS. The error statuses every route of a kind can give
are added for you (see `Operation.statuses`); list in `errors` only the ones its service
raises (403, 404, 409, 410, 422 ...). Schemas are JSON Schema 2020-12, as OpenAPI 3.1 uses;
response objects are closed (additionalProperties: false) so a serializer that grows a
field fails the tests until the document says so.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from api import bp
from api.parsing import MAX_ID, MAX_PAGE_SIZE
from accounts.models import JoinRequestStatus, Role
from campaigns.models import CampaignStatus
from challenges import rules
from challenges.models import ClaimStatus, Delivery, Difficulty, ProblemStatus, QuestMode, QuestStatus, ReviewMode
from events.models import EventMode

PREFIX = "/api/v1"
JSON = "application/json"
GEOJSON = "application/geo+json"
MULTIPART = "multipart/form-data"
Schema = dict[str, Any]

REASONS = {200: "OK", 201: "Created", 204: "Done (no content)",
           301: "Moved permanently (merged into another problem)",
           304: "Not modified (the ETag sent in If-None-Match still matches)",
           400: "Bad request: malformed body or unusable parameters", 401: "No valid token",
           403: "Not allowed (or a read-only token tried to write)", 404: "Not found",
           409: "Conflict with the current state", 410: "Gone (expired)",
           413: "Request body too large (MAX_CONTENT_LENGTH)",
           415: "Body is not application/json (multipart/form-data on the photo routes)",
           422: "A field or parameter is wrong",
           429: "Too many requests (see Retry-After)"}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Schema], *, optional: tuple[str, ...] = (), closed: bool = True) -> Schema:
    """An object whose properties are all required (apart from `optional`)."""
    schema: Schema = {"type": "object", "properties": properties,
                      "required": [name for name in properties if name not in optional]}
    if closed:
        schema["additionalProperties"] = False
    return schema


def enum(values) -> Schema:
    return {"type": "string", "enum": [v.value if hasattr(v, "value") else v for v in values]}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
DATETIME = {"type": "string", "format": "date-time", "examples": ["2026-11-27T09:30:00Z"]}
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
URL_PATH = {"type": "string", "description": "A URL path on this site, keeping the filters."}
LINK = {"type": "string", "description": "A URL path on this site."}


def page_of(item: str | Schema, **more: Schema) -> Schema:
    """A page of a list (`items` of `item`, a schema name or a schema), with `more` fields beside."""
    return obj({"items": {"type": "array", "items": ref(item) if isinstance(item, str) else item},
                "page": {"type": "integer", "minimum": 1},
                "page_size": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                "total": {"type": "integer", "minimum": 0},
                "next": nullable(URL_PATH), "prev": nullable(URL_PATH), **more})


PROBLEM_PROPERTIES = {
    "id": INTEGER, "title": STRING, "description": STRING, "category": STRING,
    "status": enum(ProblemStatus), "lat": NUMBER, "lon": NUMBER, "address": nullable(STRING),
    "confirmations_count": INTEGER, "subscribers_count": INTEGER,
    "created_at": DATETIME, "updated_at": DATETIME,
}
NEARBY_PROPERTIES = {**PROBLEM_PROPERTIES, "distance_m": {"type": "number", "minimum": 0}}
BOARD_ENTRY = obj({"rank": {"type": "integer", "minimum": 1}, "name": STRING, "points": INTEGER})
LAT = {"type": "number", "minimum": -90, "maximum": 90}
LON = {"type": "number", "minimum": -180, "maximum": 180}

TEAM_PROPERTIES = {
    "id": INTEGER, "name": STRING, "captain": nullable(STRING), "members_count": INTEGER,
    "max_members": INTEGER,
    "members": {"type": "array", "items": obj({"id": INTEGER, "name": STRING})},
    "points": obj({"week": INTEGER, "season": INTEGER}), "closed": BOOLEAN,
}
JOIN_CODE_PROPERTIES = {"team_id": INTEGER, "join_code": STRING, "expires_at": nullable(DATETIME)}
JOIN_REQUEST_PROPERTIES = {"id": INTEGER, "team_id": INTEGER, "status": enum(JoinRequestStatus),
                           "created_at": DATETIME, "decided_at": nullable(DATETIME)}
EVENT_PHASE = enum(["upcoming", "running", "frozen", "ended"])
EVENT_PROPERTIES = {
    "id": INTEGER, "title": STRING, "description": STRING, "place": STRING,
    "lat": nullable(NUMBER), "lon": nullable(NUMBER), "mode": enum(EventMode), "phase": EVENT_PHASE,
    "starts_at": DATETIME, "ends_at": DATETIME, "registration_opens_at": DATETIME,
    "registration_closes_at": DATETIME, "registration_open": BOOLEAN, "freeze_at": nullable(DATETIME),
    "min_team_size": INTEGER, "max_team_size": INTEGER, "hide_quests_until_start": BOOLEAN,
    "dynamic_scoring": BOOLEAN, "finalised": BOOLEAN, "url": LINK,
}
EVENT_ENTRY_PROPERTIES = {"id": INTEGER, "team_id": nullable(INTEGER), "name": STRING,
                          "members": {"type": "array", "items": STRING,
                                      "description": "Public names of a team's members (none for a team with a child)."},
                          "registered_at": DATETIME}
CAMPAIGN_PROPERTIES = {
    "id": INTEGER, "title": STRING, "why": STRING, "status": enum(CampaignStatus),
    "area": {"oneOf": [
        obj({"kind": {"const": "circle"}, "lat": NUMBER, "lon": NUMBER, "radius_m": NUMBER, "description": STRING}),
        obj({"kind": {"const": "bbox"}, "bbox": {"type": "array", "items": NUMBER, "minItems": 4, "maxItems": 4,
                                                 "description": "minlon, minlat, maxlon, maxlat"},
             "description": STRING}),
    ]},
    "categories": {"type": "array", "items": STRING}, "goal": INTEGER,
    "progress": obj({"count": INTEGER, "goal": INTEGER, "percent": {"type": "integer", "minimum": 0, "maximum": 100}}),
    "pledges": obj({"tokens": INTEGER, "people": INTEGER}),
    "starts_at": nullable(DATETIME), "ends_at": DATETIME, "voting_closes_at": nullable(DATETIME),
    "organiser": STRING, "url": LINK,
}
CREDIT = obj({"id": INTEGER, "name": STRING, "fixes": INTEGER})
TEAM_CREDIT = obj({"id": nullable({**INTEGER, "description": "null for a private school class, named "
                                                              "\u201ca school class\u201d."}),
                   "name": STRING, "fixes": INTEGER})
BADGE_PROPERTIES = {"code": STRING, "name": STRING, "description": STRING, "criteria": STRING,
                    "category": nullable({**STRING, "description": "A problem category; null for general badges."}),
                    "image": LINK, "achievement": LINK}
UPDATE_KINDS = ["reported", "status", "comment", "merged", "fix"]


def text_in(maximum: int, minimum: int = 1) -> Schema:
    """Text a service checks the length of (after trimming spaces at either end)."""
    return {"type": "string", "minLength": minimum, "maxLength": maximum}


TIMESTAMP_IN = {"type": "string", "format": "date-time",
                "description": "ISO 8601; without a zone it is taken as UTC."}

SCHEMAS: dict[str, Schema] = {
    "Error": obj({"error": obj({
        "code": {"type": "string", "description": "A stable machine name, e.g. validation_failed."},
        "message": {"type": "string", "description": "For people."},
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": STRING},
                   "description": "Messages per field or parameter (empty when none applies)."},
    })}),
    "Token": obj({"token": {"type": "string", "description": "Shown once; send as Authorization: Bearer <token>."},
                  "scope": enum(["read", "write"])}),
    "Problem": obj(PROBLEM_PROPERTIES),
    "NearbyProblem": obj(NEARBY_PROPERTIES),
    "ReportedProblem": obj({**PROBLEM_PROPERTIES,
                            "nearby": {"type": "array", "items": ref("NearbyProblem")},
                            "awaiting_review": {**BOOLEAN, "description": "True when the report waits for a "
                                                "moderator (the word list held it); public once released."}}),
    "ProblemPage": page_of("Problem"),
    "NearbyProblems": obj({"items": {"type": "array", "items": ref("NearbyProblem")}}),
    "Subscription": obj({"problem_id": INTEGER, "delivery": enum(Delivery), "following": {"const": True}}),
    "Unsubscribed": obj({"problem_id": INTEGER, "following": {"const": False}}),
    "Quest": obj({
        "id": INTEGER, "title": STRING, "brief": STRING, "points": INTEGER,
        "difficulty": enum(Difficulty), "mode": enum(QuestMode), "evidence_wanted": STRING,
        "starts_at": nullable(DATETIME), "ends_at": nullable(DATETIME), "problem_id": nullable(INTEGER),
        "status": enum(QuestStatus), "review_mode": enum(ReviewMode), "peer_reviews_needed": INTEGER,
        "dynamic_min_points": nullable(INTEGER), "dynamic_decay": nullable(INTEGER),
    }),
    "QuestPage": page_of("Quest"),
    "Claim": obj({
        "id": INTEGER, "quest_id": INTEGER, "team_id": nullable(INTEGER), "status": enum(ClaimStatus),
        "evidence": nullable(STRING), "created_at": DATETIME, "submitted_at": nullable(DATETIME),
        "decided_at": nullable(DATETIME),
        "unpaid_reason": {**nullable(STRING), "description": "Why an approved claim paid no points (a problem "
                          "pays once per fix cycle), or null."},
    }),
    "Kudos": obj({"claim_id": INTEGER, "kudos_count": {"type": "integer", "minimum": 1}}),
    "BoardEntry": BOARD_ENTRY,
    "Leaderboard": obj({"entries": {"type": "array", "items": ref("BoardEntry")},
                        "window": {"type": "string", "description": "week, month, all or season:<id>."},
                        "next": nullable(URL_PATH)}),
    "Standing": obj({"member": ref("BoardEntry"), "entries": {"type": "array", "items": ref("BoardEntry")},
                     "window": STRING}),
    "ProblemUpdate": obj({
        "id": INTEGER, "problem_id": INTEGER, "kind": enum(UPDATE_KINDS),
        "old_status": nullable(enum(ProblemStatus)), "new_status": nullable(enum(ProblemStatus)),
        "body": nullable(STRING), "author": nullable({**STRING, "description": "Null for a child."}),
        "created_at": DATETIME,
        "photos": {"type": "array", "items": obj({"url": LINK, "thumbnail": LINK})},
    }),
    "ProblemUpdatePage": page_of("ProblemUpdate"),
    "Team": obj(TEAM_PROPERTIES),
    "NewTeam": obj({**TEAM_PROPERTIES, **JOIN_CODE_PROPERTIES}),
    "TeamSummary": obj({"id": INTEGER, "name": STRING, "members_count": INTEGER, "max_members": INTEGER,
                        "closed": BOOLEAN, "url": LINK}),
    "TeamPage": page_of("TeamSummary"),
    "TeamMembers": page_of(obj({"id": INTEGER, "name": STRING, "captain": BOOLEAN}),
                           unlisted={"type": "integer", "minimum": 0,
                                     "description": "Members not listed to this viewer (children, people hidden "
                                                    "from the boards)."}),
    "LeftTeam": obj({"team_id": INTEGER, "member": {"const": False}, "closed": BOOLEAN}),
    "JoinCode": obj(JOIN_CODE_PROPERTIES),
    "JoinRequest": obj(JOIN_REQUEST_PROPERTIES),
    "JoinRequestPage": page_of(obj({**JOIN_REQUEST_PROPERTIES, "user": obj({"id": INTEGER, "name": STRING})})),
    "Event": obj(EVENT_PROPERTIES),
    "EventPage": page_of("Event"),
    "EventDetail": obj({
        **EVENT_PROPERTIES,
        "quests": nullable({"type": "array", "items": obj({"id": INTEGER, "title": STRING, "points": INTEGER,
                                                           "url": LINK})}),
        "entries_count": INTEGER, "my_entry_id": nullable(INTEGER), "entries": LINK, "scoreboard": LINK}),
    "EventEntry": obj(EVENT_ENTRY_PROPERTIES),
    "EventEntryPage": page_of("EventEntry"),
    "Registration": obj({**EVENT_ENTRY_PROPERTIES, "event_id": INTEGER}),
    "EventScoreboard": page_of(
        obj({"rank": INTEGER, "entry_id": INTEGER, "name": STRING, "points": INTEGER,
             "solved": {"type": "array", "items": INTEGER}}),
        event_id=INTEGER, phase=EVENT_PHASE, view=enum(["live", "frozen", "final"]), as_of=nullable(DATETIME),
        ends_at=DATETIME, quests={"type": "array", "items": obj({"id": INTEGER, "title": STRING})}),
    "Campaign": obj(CAMPAIGN_PROPERTIES),
    "CampaignPage": page_of("Campaign"),
    "CampaignDetail": obj({
        **CAMPAIGN_PROPERTIES,
        "milestones": {"type": "array", "items": obj({"percent": INTEGER, "reached_at": DATETIME})},
        "contributors": obj({"teams": {"type": "array", "items": TEAM_CREDIT},
                             "people": {"type": "array", "items": CREDIT},
                             "unnamed": {"type": "integer", "minimum": 0}})}),
    "Badge": obj(BADGE_PROPERTIES),
    "BadgePage": page_of("Badge"),
    "EarnedBadge": obj({**BADGE_PROPERTIES, "awarded_at": DATETIME,
                        "credential": {**LINK, "description": "Its Open Badges 3.0 credential (JSON-LD)."}}),
    "EarnedBadgePage": page_of("EarnedBadge"),
    "Me": obj({
        "id": INTEGER, "display_name": STRING, "role": enum(Role), "points": INTEGER,
        "level": obj({"number": INTEGER, "floor": INTEGER, "next_floor": nullable(INTEGER),
                      "progress": {"type": "number", "minimum": 0, "maximum": 1},
                      "points_to_next": nullable(INTEGER)}),
        "streak": obj({"weeks": INTEGER, "best": INTEGER, "forgiven": INTEGER, "enabled": BOOLEAN,
                       "active_this_week": BOOLEAN}),
        "teams": {"type": "array", "items": obj({"id": INTEGER, "name": STRING, "captain": BOOLEAN,
                                                 "url": LINK})},
        "hidden_from_boards": BOOLEAN, "badges_count": INTEGER, "profile": LINK,
    }),
    "Notification": obj({"id": INTEGER, "read": BOOLEAN, "read_at": nullable(DATETIME), "created_at": DATETIME,
                         "summary": STRING, "update": ref("ProblemUpdate"), "problem": LINK}),
    "NotificationPage": page_of("Notification", unread_count={"type": "integer", "minimum": 0}),
    "NotificationRead": obj({"id": INTEGER, "read": {"const": True}, "unread_count": {"type": "integer", "minimum": 0}}),
    "NotificationsRead": obj({"marked": {"type": "integer", "minimum": 0},
                              "unread_count": {"type": "integer", "minimum": 0}}),
    "MyData": obj({"generated_at": DATETIME, "account": {"type": "object"}}, closed=False),
    "ProblemFeatures": obj({
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": obj({
            "type": {"const": "Feature"}, "id": INTEGER,
            "geometry": obj({"type": {"const": "Point"},
                             "coordinates": {"type": "array", "items": NUMBER,
                                             "minItems": 2, "maxItems": 2}}),
            "properties": obj({"id": INTEGER, "title": STRING, "category": STRING, "status": enum(ProblemStatus),
                               "url": {"type": "string", "format": "uri"}, "confirmations_count": INTEGER,
                               "subscribers_count": INTEGER, "created_at": DATETIME}),
        })},
        "truncated": {"type": "boolean", "description": "More problems matched than `limit`."},
    }),
    "OpenAPI": {"type": "object", "required": ["openapi", "paths"]},
}


# --- parameters ------------------------------------------------------------------------------

def path_id(name: str, what: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id.",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}


def query(name: str, schema: Schema, description: str, *, required: bool = False) -> Schema:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def page_params() -> list[Schema]:
    return [query("page", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "default": 1}, "Page number."),
            query("page_size", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                  f"Items per page (at most {MAX_PAGE_SIZE}; default PAGE_SIZE).")]


BBOX = query("bbox", {"type": "string", "pattern": r"^[^,]+,[^,]+,[^,]+,[^,]+$",
                      "examples": ["-2.62,51.44,-2.56,51.47"]},
             "minlon,minlat,maxlon,maxlat (WGS84; may cross the antimeridian). Malformed: 400.")
BOARD = {"name": "board", "in": "path", "required": True, "schema": enum(["participants", "teams"])}
WINDOW = query("window", {"type": "string", "pattern": r"^(week|month|all|season:[0-9]+)$", "default": "all"},
               "week, month, all or season:<id> (an unknown season: 422).")
TEAM_FILTER = query("team_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    "Only that team's members, ranked by their own points.")


def names_list(values: list[str]) -> Schema:
    alternatives = "|".join(v.replace(" ", "\\ ").replace("-", "\\-") for v in values)
    return {"type": "string", "pattern": rf"^\s*({alternatives})\s*(,\s*({alternatives})\s*)*$",
            "description": "One name or several, comma-separated."}


# --- operations ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Operation:
    method: str
    path: str                               # under /api/v1, OpenAPI style: /problems/{problem_id}
    summary: str
    tag: str
    response: Schema | None                 # the success body's schema
    status: int = 200                       # the success status
    scope: str | None = None                # "read" or "write": a token is required
    optional_token: bool = False            # public, but a token may show more
    params: tuple[Schema, ...] = ()
    body: Schema | None = None              # the request body's schema (JSON unless body_media_type says)
    body_required: bool = True
    body_media_type: str = JSON             # MULTIPART for the photo uploads (api/media.py)
    errors: tuple[int, ...] = ()            # statuses the service can answer (beyond the automatic ones)
    media_type: str = JSON
    description: str = ""
    extra_responses: dict[int, dict] = field(default_factory=dict)

    def statuses(self) -> list[int]:
        """The error statuses: the route's own, plus what its kind of route always can give:
        a JSON body 400/413/415 (a multipart one 413/415/422), a token 401 and 403 (a
        suspended account's token, or a read token used to write), a path id 404,
        a GET a 304 to If-None-Match."""
        found = set(self.errors)
        if self.body is not None:
            found |= {400, 413, 415} if self.body_media_type == JSON else {413, 415, 422}
        if self.scope:
            found.add(401)
        if self.scope:
            found.add(403)
        if any(p["in"] == "path" for p in self.params):
            found.add(404)
        if self.method == "get":
            found.add(304)
        return sorted(found)

    def document(self) -> dict:
        responses: dict[str, Any] = {str(self.status): {
            "description": REASONS[self.status],
            "content": {self.media_type: {"schema": self.response or {}}}}}
        if self.status == 204:
            del responses["204"]["content"]
        if self.status == 201:
            responses["201"]["headers"] = {"Location": {"description": "The new object's URL.",
                                                        "schema": STRING}}
        responses.update({str(code): value for code, value in self.extra_responses.items()})
        for code in self.statuses():
            if code == 304:
                responses["304"] = {"description": REASONS[304]}
            else:
                responses[str(code)] = {"$ref": f"#/components/responses/E{code}"}
        operation: dict[str, Any] = {
            "operationId": f"{self.method}_{self.path.strip('/').replace('/', '_').replace('{', '').replace('}', '').replace('.', '_')}",
            "summary": self.summary, "tags": [self.tag], "responses": responses}
        if self.description:
            operation["description"] = self.description
        if self.params:
            operation["parameters"] = list(self.params)
        if self.body is not None:
            operation["requestBody"] = {"required": self.body_required,
                                        "content": {self.body_media_type: {"schema": self.body}}}
        if self.scope:
            operation["security"] = [{"bearer": [self.scope]}]
        elif self.optional_token:
            operation["security"] = [{}, {"bearer": ["read"]}]
        else:
            operation["security"] = []
        return operation


# Modules that document more routes, one per area, so each area's routes and their document
# sit together: each defines SCHEMAS (names not used here), TAGS (its tag names, in order) and
# `operations(categories) -> list[Operation]`, importing what it needs from this module.
AREAS: tuple[str, ...] = ("api.events_doc", "api.account_doc", "api.manage_doc", "api.media_doc", "api.admin_doc")


def _areas() -> list:
    return [importlib.import_module(name) for name in AREAS]


def operations(categories: list[str]) -> list[Operation]:
    """Every route of the API: the core ones below, then each area module's."""
    found = core_operations(categories)
    for module in _areas():
        found += module.operations(categories)
    return found


def schemas() -> dict[str, Schema]:
    merged = dict(SCHEMAS)
    for module in _areas():
        clash = merged.keys() & module.SCHEMAS.keys()
        assert not clash, f"{module.__name__} redefines schemas {sorted(clash)}"
        merged.update(module.SCHEMAS)
    return merged


def core_operations(categories: list[str]) -> list[Operation]:
    """The routes of api/routes.py and its neighbours, grouped as there. `categories`: the site's
    problem categories (the CATEGORIES setting), which some parameters and bodies enumerate."""
    problem_id = path_id("problem_id", "problem")
    quest_id = path_id("quest_id", "quest")
    claim_id = path_id("claim_id", "claim")
    team_id = path_id("team_id", "team")
    event_id = path_id("event_id", "event")
    status_names = [s.value for s in ProblemStatus]
    body = obj  # request bodies: every field optional unless listed, unknown fields ignored
    return [
        # tokens and the caller's own data
        Operation("post", "/tokens", "Issue an API token (email and password)", "tokens", ref("Token"), 201,
                  body=body({"email": STRING, "password": STRING, "name": STRING, "scope": enum(["read", "write"])},
                            optional=("name", "scope"), closed=False),
                  errors=(401, 403, 422, 429),
                  description="scope defaults to write, name to \"api\". Wrong credentials: 401."),
        Operation("get", "/me/data", "Everything FixQuest holds about you", "me", ref("MyData"), scope="read"),
        Operation("get", "/me", "Your profile: level, points, streak, teams", "me", ref("Me"), scope="read"),
        Operation("patch", "/me", "Change your display name or leaderboard visibility", "me", ref("Me"),
                  scope="write", body=body({"display_name": STRING, "hidden_from_boards": BOOLEAN},
                                           optional=("display_name", "hidden_from_boards"), closed=False),
                  errors=(403, 422), description="A child's account changes neither here (403)."),
        Operation("get", "/me/badges", "Your earned badges, oldest first", "me", ref("EarnedBadgePage"),
                  scope="read", params=tuple(page_params()), errors=(422,)),
        Operation("get", "/me/notifications", "Your in-app notifications, newest first", "me",
                  ref("NotificationPage"), scope="read",
                  params=(query("unread", BOOLEAN, "Only unread ones."), *page_params()), errors=(422,)),
        Operation("post", "/me/notifications/{notification_id}/read", "Mark a notification read", "me",
                  ref("NotificationRead"), scope="write", params=(path_id("notification_id", "notification"),),
                  description="Someone else's notification is 404."),
        Operation("post", "/me/notifications/read", "Mark all your notifications read", "me",
                  ref("NotificationsRead"), scope="write"),
        # problems
        Operation("post", "/problems", "Report a problem", "problems", ref("ReportedProblem"), 201, scope="write",
                  body=body({"title": text_in(rules.TITLE_MAX, 3), "description": text_in(rules.DESCRIPTION_MAX),
                             "category": enum(categories), "lat": LAT, "lon": LON,
                             "address": nullable(text_in(rules.ADDRESS_MAX, 0))},
                            optional=("address",), closed=False),
                  errors=(422, 429),
                  description="Answers with open problems of the category near it (`nearby`), to confirm instead. "
                              "Unverified accounts may report only a few problems (403)."),
        Operation("get", "/problems", "List problems", "problems", ref("ProblemPage"),
                  params=(query("category", enum(categories), "Only this category."),
                          query("status", enum(status_names), "Only this status."),
                          query("updated_since", TIMESTAMP_IN, "Only problems changed since (ISO 8601)."),
                          BBOX, *page_params()),
                  errors=(400, 422)),
        Operation("get", "/problems/nearby", "Open problems near a point, nearest first", "problems",
                  ref("NearbyProblems"),
                  params=(query("lat", LAT, "Latitude.", required=True),
                          query("lon", LON, "Longitude.", required=True),
                          query("radius_m", {"type": "number", "exclusiveMinimum": 0}, "Radius in metres."),
                          query("category", enum(categories), "Only this category."),
                          query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 20},
                                "At most this many.")),
                  errors=(400,), description="Any missing or unusable parameter is a 400 naming it."),
        Operation("get", "/problems/{problem_id}", "A problem", "problems", ref("Problem"), params=(problem_id,),
                  extra_responses={301: {"description": REASONS[301], "headers": {
                      "Location": {"description": "The surviving problem.", "schema": STRING}}}}),
        Operation("get", "/problems/{problem_id}/updates", "A problem's public history, oldest first", "problems",
                  ref("ProblemUpdatePage"), params=(problem_id, *page_params()), errors=(422,),
                  description="Reported, status changes, comments, merges and fix stories, with their photos. "
                              "A merged problem answers 301 with the survivor's history.",
                  extra_responses={301: {"description": REASONS[301], "headers": {
                      "Location": {"description": "The surviving problem's history.", "schema": STRING}}}}),
        Operation("post", "/problems/{problem_id}/updates", "Post to a problem's history (organisers)", "problems",
                  ref("ProblemUpdate"), 201, scope="write", params=(problem_id,),
                  body=body({"body": STRING, "status": enum(status_names)}, optional=("body", "status"),
                            closed=False),
                  errors=(403, 409, 422),
                  description="A comment {\"body\"}, or a status change {\"status\", \"body\": a note}. "
                              "Only organisers post; a child never does (403). A merged problem's status: 409."),
        Operation("post", "/problems/{problem_id}/merge", "Merge a duplicate into another problem (organisers)",
                  "problems", ref("Problem"), scope="write", params=(problem_id,),
                  body=body({"into_id": ID_SCHEMA}, closed=False), errors=(403, 409, 422),
                  description="Answers with the surviving problem. An unknown `into_id`: 422; a problem already "
                              "merged, or a merge that would make a cycle: 409."),
        Operation("post", "/problems/{problem_id}/confirm", "Confirm a problem (\"I see this too\")", "problems",
                  ref("Problem"), scope="write", params=(problem_id,), errors=(409, 429)),
        Operation("put", "/problems/{problem_id}/subscription", "Follow a problem", "problems", ref("Subscription"),
                  scope="write", params=(problem_id,), body=body({"delivery": enum(Delivery)}, optional=("delivery",),
                                                                 closed=False),
                  body_required=False, errors=(422,)),
        Operation("delete", "/problems/{problem_id}/subscription", "Stop following a problem", "problems",
                  ref("Unsubscribed"), scope="write", params=(problem_id,)),
        Operation("get", "/problems.geojson", "Problems as GeoJSON", "problems", ref("ProblemFeatures"),
                  media_type=GEOJSON,
                  params=(BBOX, query("category", names_list(categories), "Category names, comma-separated."),
                          query("status", names_list(status_names), "Statuses, comma-separated."),
                          query("limit", {"type": "integer", "minimum": 1, "maximum": 5000, "default": 1000},
                                "At most this many features, newest first.")),
                  errors=(400, 422)),
        # quests
        Operation("post", "/quests", "Create (or propose) a quest", "quests", ref("Quest"), 201, scope="write",
                  body=body({"title": text_in(rules.TITLE_MAX, 3), "brief": text_in(rules.BRIEF_MAX),
                             "points": {"type": "integer", "minimum": rules.POINTS_MIN, "maximum": rules.POINTS_MAX},
                             "difficulty": enum(Difficulty), "mode": enum(QuestMode),
                             "evidence_wanted": text_in(rules.EVIDENCE_WANTED_MAX), "starts_at": TIMESTAMP_IN,
                             "ends_at": TIMESTAMP_IN, "problem_id": ID_SCHEMA, "review_mode": enum(ReviewMode),
                             "peer_reviews_needed": INTEGER, "dynamic_min_points": INTEGER,
                             "dynamic_decay": INTEGER},
                            optional=("starts_at", "ends_at", "problem_id", "review_mode", "peer_reviews_needed",
                                      "dynamic_min_points", "dynamic_decay"), closed=False),
                  errors=(404, 422)),
        Operation("get", "/quests", "Open quests, soonest-closing first", "quests", ref("QuestPage"),
                  params=tuple(page_params()), errors=(422,)),
        Operation("get", "/quests/{quest_id}", "A quest", "quests", ref("Quest"), optional_token=True,
                  params=(quest_id,),
                  description="A proposal is visible only to organisers and its proposer (with a token)."),
        Operation("post", "/quests/{quest_id}/publish", "Publish a proposed quest (organisers)", "quests",
                  ref("Quest"), scope="write", params=(quest_id,), errors=(409,)),
        # claims
        Operation("post", "/quests/{quest_id}/claims", "Claim a quest", "claims", ref("Claim"), 201, scope="write",
                  params=(quest_id,), body=body({"team_id": ID_SCHEMA}, optional=("team_id",), closed=False),
                  body_required=False, errors=(409, 422, 429)),
        Operation("get", "/claims/{claim_id}", "A claim (its claimant, team and organisers)", "claims", ref("Claim"),
                  scope="read", params=(claim_id,)),
        Operation("post", "/claims/{claim_id}/submit", "Submit evidence", "claims", ref("Claim"), scope="write",
                  params=(claim_id,), body=body({"evidence": text_in(rules.EVIDENCE_MAX), "members": {
                      "type": "array", "items": ID_SCHEMA, "maxItems": 100}}, optional=("members",), closed=False),
                  errors=(409, 422, 429)),
        Operation("post", "/claims/{claim_id}/review", "Approve or reject a claim", "claims", ref("Claim"),
                  scope="write", params=(claim_id,),
                  body=body({"decision": enum(["approve", "reject"]), "reason": text_in(rules.REASON_MAX, 0)}, optional=("reason",),
                            closed=False),
                  errors=(409, 422)),
        Operation("post", "/claims/{claim_id}/reverse", "Reverse an approved claim (organisers)", "claims",
                  ref("Claim"), scope="write", params=(claim_id,), body=body({"reason": text_in(rules.REASON_MAX)}, closed=False),
                  errors=(409, 422)),
        Operation("post", "/claims/{claim_id}/kudos", "Thank the people behind an approved fix", "claims",
                  ref("Kudos"), 201, scope="write", params=(claim_id,), errors=(409,)),
        # leaderboards
        Operation("get", "/leaderboards/{board}", "A page of a leaderboard", "leaderboards", ref("Leaderboard"),
                  params=(BOARD, WINDOW, TEAM_FILTER,
                          query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 10},
                                "Entries per page."),
                          query("offset", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1, "default": 0},
                                "Entries to skip.")),
                  optional_token=True, errors=(422,),
                  description="`team_id` of a private school class: 422 as for no team, except to its teacher "
                              "and admins (with a token)."),
        Operation("get", "/leaderboards/{board}/around/{member_id}", "A member's standing and neighbours",
                  "leaderboards", ref("Standing"),
                  params=(BOARD, path_id("member_id", "participant's or team"), WINDOW, TEAM_FILTER,
                          query("span", {"type": "integer", "minimum": 0, "maximum": 10, "default": 2},
                                "Places above and below.")),
                  optional_token=True, errors=(422,),
                  description="`team_id` of a private school class: 422 as for no team, except to its teacher "
                              "and admins (with a token)."),
        # teams
        Operation("get", "/teams", "Teams by name", "teams", ref("TeamPage"),
                  params=(query("name", {"type": "string", "maxLength": 60}, "Only teams whose name contains this."),
                          query("include_closed", BOOLEAN, "Closed teams too (default: open ones only)."),
                          *page_params()),
                  errors=(422,)),
        Operation("post", "/teams", "Start a team (you are its captain)", "teams", ref("NewTeam"), 201,
                  scope="write", body=body({"name": text_in(60, 2)}, closed=False), errors=(403, 409, 422),
                  description="Answers with the team and its join code. A taken name: 409."),
        Operation("get", "/teams/{team_id}", "A team's public page", "teams", ref("Team"), params=(team_id,),
                  optional_token=True,
                  description="A private school class's team is 404, as a team that does not exist, except to "
                              "its teacher and admins (with a token)."),
        Operation("get", "/teams/{team_id}/members", "A team's members", "teams", ref("TeamMembers"),
                  optional_token=True, params=(team_id, *page_params()), errors=(422,),
                  description="Members see everyone; others only the public members (the rest are counted in "
                              "`unlisted`)."),
        Operation("post", "/teams/join", "Join a team with its code", "teams", ref("Team"), scope="write",
                  body=body({"code": STRING}, closed=False), errors=(404, 409, 410, 422)),
        Operation("post", "/teams/{team_id}/leave", "Leave a team", "teams", ref("LeftTeam"), scope="write",
                  params=(team_id,), errors=(409,),
                  description="Not a member, or a child: 403. A captain with other members hands over first "
                              "(409); the last member closes the team."),
        Operation("post", "/teams/{team_id}/code", "A new join code (captain)", "teams", ref("JoinCode"),
                  scope="write", params=(team_id,),
                  body=body({"expires_in_days": {"enum": [1, 7, 30]}}, optional=("expires_in_days",), closed=False),
                  body_required=False, errors=(422,),
                  description="The old code stops at once. Without `expires_in_days` the code does not expire."),
        Operation("post", "/teams/{team_id}/size", "Set the team's member limit (captain)", "teams", ref("Team"),
                  scope="write", params=(team_id,),
                  body=body({"max_size": nullable({"type": "integer", "minimum": 2})}, optional=("max_size",),
                            closed=False),
                  errors=(422,), description="From 2 to the site's limit, and at least the members it has; "
                                             "null: the site's limit."),
        Operation("post", "/teams/{team_id}/members/{user_id}/remove", "Remove a member (captain)", "teams",
                  ref("Team"), scope="write", params=(team_id, path_id("user_id", "member")), errors=(409,),
                  description="The captain cannot be removed (409); someone not in the team: 404."),
        Operation("post", "/teams/{team_id}/captain", "Hand over the captaincy (captain)", "teams", ref("Team"),
                  scope="write", params=(team_id,), body=body({"new_captain_id": ID_SCHEMA}, closed=False),
                  errors=(422,), description="To another member of the team who is not a child."),
        Operation("get", "/teams/{team_id}/requests", "Join requests waiting for a decision (captain)", "teams",
                  ref("JoinRequestPage"), scope="read", params=(team_id, *page_params()), errors=(403, 422)),
        Operation("post", "/teams/{team_id}/requests", "Ask to join a team", "teams", ref("JoinRequest"), 201,
                  scope="write", params=(team_id,), errors=(409,),
                  description="Refused (409) when you are in it, asked already, or it is full or closed."),
        Operation("post", "/teams/{team_id}/requests/{request_id}/{decision}", "Approve or decline a join request "
                  "(captain)", "teams", ref("JoinRequest"), scope="write",
                  params=(team_id, path_id("request_id", "join request"),
                          {"name": "decision", "in": "path", "required": True,
                           "schema": enum(["approve", "decline"])}),
                  errors=(409,), description="A request decided already, or no room left: 409."),
        # events
        Operation("get", "/events", "Events", "events", ref("EventPage"),
                  params=(query("phase", enum(["upcoming", "running", "past"]), "Only events in this phase."),
                          query("mode", enum(EventMode), "Only solo or team events."), *page_params()),
                  errors=(422,),
                  description="Running ones end soonest first, upcoming ones start soonest first, past ones latest "
                              "first; with no phase, the newest start first."),
        Operation("get", "/events/{event_id}", "An event", "events", ref("EventDetail"), optional_token=True,
                  params=(event_id,),
                  description="`quests` is null while they are secret (only its organisers see them earlier)."),
        Operation("get", "/events/{event_id}/entries", "An event's entries, in registration order", "events",
                  ref("EventEntryPage"), optional_token=True, params=(event_id, *page_params()), errors=(422,)),
        Operation("get", "/events/{event_id}/scoreboard", "An event's scoreboard", "events", ref("EventScoreboard"),
                  optional_token=True, params=(event_id, *page_params()), errors=(422,),
                  description="Frozen for the public during a freeze; live for the event's organisers."),
        Operation("post", "/events/{event_id}/registrations", "Register for an event", "events",
                  ref("Registration"), 201, scope="write", params=(event_id,),
                  body=body({"team_id": ID_SCHEMA, "user_id": ID_SCHEMA}, optional=("team_id", "user_id"),
                            closed=False),
                  body_required=False, errors=(403, 409, 422),
                  description="A team event: its captain enters `team_id`. A solo event: you enter yourself. The "
                              "event's organisers may enter any team or person (`user_id`) until the end. Outside "
                              "the registration window, or entered already: 409; a team of the wrong size: 422."),
        # campaigns
        Operation("get", "/campaigns", "Campaigns with their progress and pledges", "campaigns",
                  ref("CampaignPage"), params=(query("status", enum(CampaignStatus), "Only this status."),
                                               *page_params()),
                  errors=(422,)),
        Operation("get", "/campaigns/{campaign_id}", "A campaign with milestones and contributors", "campaigns",
                  ref("CampaignDetail"), params=(path_id("campaign_id", "campaign"),),
                  description="Contributors are named only where the campaign page names them; the rest are "
                              "counted in `unnamed`."),
        # school classes
        Operation("get", "/classes/{class_id}/leaderboard", "A school class's leaderboard (its teacher and "
                  "children)", "classes", ref("Leaderboard"), scope="read",
                  params=(path_id("class_id", "class"),
                          query("window", enum(["all", "week", "month"]), "The period (default all)."),
                          query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 10},
                                "Entries per page."),
                          query("offset", {"type": "integer", "minimum": 0, "maximum": 2**31 - 1, "default": 0},
                                "Entries to skip.")),
                  errors=(422,), description="To anyone else the class is 404, whether or not it exists."),
        # badges
        Operation("get", "/badges", "The badge catalogue", "badges", ref("BadgePage"),
                  params=(query("category", STRING, "Only this badge category (an unknown one: 422)."),
                          *page_params()),
                  errors=(422,)),
        Operation("get", "/people/{user_id}/badges", "A person's earned badges", "badges", ref("EarnedBadgePage"),
                  optional_token=True, params=(path_id("user_id", "person"), *page_params()), errors=(422,),
                  description="Each with its Open Badges 3.0 credential. 404 where the person's profile page is: "
                              "a child's outside their class, a profile a moderator hid (but to its owner and "
                              "organisers)."),
        # this document
        Operation("get", "/openapi.json", "This OpenAPI document", "meta", ref("OpenAPI")),
    ]


def tags() -> list[str]:
    names = ["tokens", "me", "problems", "quests", "claims", "leaderboards", "teams", "events", "campaigns",
             "classes", "badges"]
    for module in _areas():
        names += [name for name in module.TAGS if name not in names]
    return names + ["meta"]


def error_responses() -> dict[str, dict]:
    return {f"E{code}": {"description": REASONS[code],
                         "content": {JSON: {"schema": ref("Error")}},
                         **({"headers": {"Retry-After": {"schema": STRING, "description": "Seconds to wait."}}}
                            if code == 429 else {})}
            for code in REASONS if code >= 400}


def document() -> dict:
    paths: dict[str, dict] = {}
    for operation in operations(list(current_app.config["CATEGORIES"])):
        paths.setdefault(PREFIX + operation.path, {})[operation.method] = operation.document()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FixQuest API", "version": "1",
            "description": "Problems, quests, claims, teams and leaderboards of FixQuest. Public reads need "
                           "no token; changes need a write token (`POST /api/v1/tokens`, or made on your "
                           "account page). Every error is `{\"error\": {\"code\", \"message\", \"fields\"}}`. "
                           "Lists paginate with `page` and `page_size` and link `next`/`prev`. GETs carry an "
                           "ETag and answer If-None-Match with 304; every response allows CORS.",
        },
        "tags": [{"name": name} for name in tags()],
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "responses": error_responses(),
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "A personal access token, scoped read or write. Read tokens may only GET."}},
        },
    }


@bp.get("/openapi.json")
def openapi_document():
    return document()
