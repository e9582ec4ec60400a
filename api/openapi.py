"""The OpenAPI 3.1 document of the JSON API, served at GET /api/v1/openapi.json.

Hand-written data, kept true to the code by tests (tests/api/test_openapi.py):
  * every rule of the app's url_map under /api/v1 has an operation here with the same
    methods, and every operation here has a rule (the failure names what is missing);
  * every response the API tests get is validated against the operation's schema for its
    status, and schemathesis fuzzes the API from this document (tests/api/test_fuzz.py).

To document a new route, add one `Operation` to OPERATIONS (near its neighbours) and, if
its JSON is new, its schema to SCHEMAS. The error statuses every route of a kind can give
are added for you (see `Operation.statuses`); list in `errors` only the ones its service
raises (403, 404, 409, 410, 422 ...). Schemas are JSON Schema 2020-12, as OpenAPI 3.1 uses;
response objects are closed (additionalProperties: false) so a serializer that grows a
field fails the tests until the document says so.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from api import bp
from api.parsing import MAX_ID, MAX_PAGE_SIZE
from challenges import rules
from challenges.models import ClaimStatus, Delivery, Difficulty, ProblemStatus, QuestMode, QuestStatus, ReviewMode

PREFIX = "/api/v1"
JSON = "application/json"
GEOJSON = "application/geo+json"
Schema = dict[str, Any]

REASONS = {200: "OK", 201: "Created", 301: "Moved permanently (merged into another problem)",
           304: "Not modified (the ETag sent in If-None-Match still matches)",
           400: "Bad request: malformed body or unusable parameters", 401: "No valid token",
           403: "Not allowed (or a read-only token tried to write)", 404: "Not found",
           409: "Conflict with the current state", 410: "Gone (expired)",
           413: "Request body too large (MAX_CONTENT_LENGTH)",
           415: "Body is not application/json", 422: "A field or parameter is wrong",
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


def page_of(item: str) -> Schema:
    return obj({"items": {"type": "array", "items": ref(item)}, "page": {"type": "integer", "minimum": 1},
                "page_size": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                "total": {"type": "integer", "minimum": 0},
                "next": nullable(URL_PATH), "prev": nullable(URL_PATH)})


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
                            "nearby": {"type": "array", "items": ref("NearbyProblem")}}),
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
    "Team": obj({
        "id": INTEGER, "name": STRING, "captain": nullable(STRING), "members_count": INTEGER,
        "max_members": INTEGER,
        "members": {"type": "array", "items": obj({"id": INTEGER, "name": STRING})},
        "points": obj({"week": INTEGER, "season": INTEGER}), "closed": BOOLEAN,
    }),
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
    body: Schema | None = None              # the JSON request body's schema
    body_required: bool = True
    errors: tuple[int, ...] = ()            # statuses the service can answer (beyond the automatic ones)
    media_type: str = JSON
    description: str = ""
    extra_responses: dict[int, dict] = field(default_factory=dict)

    def statuses(self) -> list[int]:
        """The error statuses: the route's own, plus what its kind of route always can give:
        a JSON body 400/413/415, a token 401 (and 403 for write scope), a path id 404,
        a GET a 304 to If-None-Match."""
        found = set(self.errors)
        if self.body is not None:
            found |= {400, 413, 415}
        if self.scope:
            found.add(401)
        if self.scope == "write":
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
                                        "content": {JSON: {"schema": self.body}}}
        if self.scope:
            operation["security"] = [{"bearer": [self.scope]}]
        elif self.optional_token:
            operation["security"] = [{}, {"bearer": ["read"]}]
        else:
            operation["security"] = []
        return operation


def operations(categories: list[str]) -> list[Operation]:
    """Every route of the API, grouped as in api/routes.py. `categories`: the site's problem
    categories (the CATEGORIES setting), which some parameters and bodies enumerate."""
    problem_id = path_id("problem_id", "problem")
    quest_id = path_id("quest_id", "quest")
    claim_id = path_id("claim_id", "claim")
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
                  errors=(422,)),
        Operation("get", "/leaderboards/{board}/around/{member_id}", "A member's standing and neighbours",
                  "leaderboards", ref("Standing"),
                  params=(BOARD, path_id("member_id", "participant's or team"), WINDOW, TEAM_FILTER,
                          query("span", {"type": "integer", "minimum": 0, "maximum": 10, "default": 2},
                                "Places above and below.")),
                  errors=(422,)),
        # teams
        Operation("get", "/teams/{team_id}", "A team's public page", "teams", ref("Team"),
                  params=(path_id("team_id", "team"),)),
        Operation("post", "/teams/join", "Join a team with its code", "teams", ref("Team"), scope="write",
                  body=body({"code": STRING}, closed=False), errors=(404, 409, 410, 422)),
        # this document
        Operation("get", "/openapi.json", "This OpenAPI document", "meta", ref("OpenAPI")),
    ]


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
        "tags": [{"name": name} for name in ("tokens", "me", "problems", "quests", "claims", "leaderboards",
                                             "teams", "meta")],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "responses": error_responses(),
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": "A personal access token, scoped read or write. Read tokens may only GET."}},
        },
    }


@bp.get("/openapi.json")
def openapi_document():
    return document()
