"""The OpenAPI document of the organising routes of events, campaigns and fix stories
(api/events.py, api/campaigns.py): the actions of the event, campaign and fix-story pages.
Named in api.openapi.AREAS; the read routes of the same areas stay in core_operations()."""
from __future__ import annotations

from api.openapi import (BOOLEAN, DATETIME, ID_SCHEMA, INTEGER, LINK, NUMBER, STRING, TIMESTAMP_IN, Operation,
                         Schema, enum, nullable, obj, path_id, ref, text_in)
from campaigns.services import GOAL_MAX, TITLE_MAX as CAMPAIGN_TITLE_MAX, WHY_MAX
from campaigns.stories import STORY_MAX
from events import rules
from events.models import EventMode

TAGS = ["events", "campaigns", "problems"]

PHOTO = obj({"url": LINK, "thumbnail": LINK})

SCHEMAS: dict[str, Schema] = {
    "EventQuestAdded": obj({"event_id": INTEGER, "quest": ref("Quest")}),
    "EventQuestRemoved": obj({"event_id": INTEGER, "quest_id": INTEGER, "in_event": {"const": False}}),
    "EventOrganiserAdded": obj({"event_id": INTEGER, "user_id": INTEGER, "organiser": {"const": True}}),
    "Pledge": obj({
        "campaign_id": INTEGER, "tokens": {"type": "integer", "minimum": 1, "description": "This pledge."},
        "pledges": obj({"tokens": INTEGER, "people": INTEGER}),
        "my_tokens": obj({"earned": INTEGER, "pledged": INTEGER, "available": {"type": "integer", "minimum": 0}}),
    }),
    "VoteCount": obj({"chosen": {**nullable(ref("CampaignDetail")),
                                 "description": "The campaign chosen, for its organiser to launch; null when no "
                                                "vote has closed."}}),
    "FixStory": obj({"problem_id": INTEGER, "update_id": INTEGER, "story": STRING,
                     "author": nullable(STRING), "created_at": DATETIME,
                     "before_photo": nullable(PHOTO), "after_photo": nullable(PHOTO)}),
}

_SIZE = {"type": "integer", "minimum": 1, "maximum": rules.TEAM_SIZE_MAX}
_LAT = {"type": "number", "minimum": -90, "maximum": 90}
_LON = {"type": "number", "minimum": -180, "maximum": 180}
EVENT_BODY_FIELDS: dict[str, Schema] = {
    "title": text_in(rules.TITLE_MAX, 3), "description": text_in(rules.DESCRIPTION_MAX),
    "place": text_in(rules.PLACE_MAX), "lat": nullable(_LAT), "lon": nullable(_LON),
    "starts_at": TIMESTAMP_IN, "ends_at": TIMESTAMP_IN, "registration_opens_at": TIMESTAMP_IN,
    "registration_closes_at": TIMESTAMP_IN, "mode": enum(EventMode), "min_team_size": _SIZE, "max_team_size": _SIZE,
    "freeze_at": nullable(TIMESTAMP_IN), "hide_quests_until_start": BOOLEAN, "dynamic_scoring": BOOLEAN,
}
EVENT_OPTIONAL = ("lat", "lon", "min_team_size", "max_team_size", "freeze_at", "hide_quests_until_start",
                  "dynamic_scoring")
EVENT_RULES = ("Ends after it starts; registration closes after it opens and by the end; a freeze falls between "
               "the start and the end; team events take team sizes from 1 to "
               f"{rules.TEAM_SIZE_MAX} (solo events: 1). Every broken rule is named in `fields` (422).")


def area_body() -> Schema:
    return {"oneOf": [
        obj({"kind": {"const": "circle"}, "lat": _LAT, "lon": _LON,
             "radius_m": {"type": "number", "minimum": 1, "maximum": 5000}}, closed=False),
        obj({"kind": {"const": "bbox"}, "bbox": {"type": "array", "items": NUMBER, "minItems": 4, "maxItems": 4,
                                                 "description": "minlon, minlat, maxlon, maxlat"}}, closed=False),
    ]}


def operations(categories: list[str]) -> list[Operation]:
    body = obj  # request bodies: every field required unless listed optional, unknown fields ignored
    event_id = path_id("event_id", "event")
    campaign_id = path_id("campaign_id", "campaign")
    problem_id = path_id("problem_id", "problem")
    return [
        # events
        Operation("post", "/events", "Create an event (organisers)", "events", ref("EventDetail"), 201,
                  scope="write", body=body(EVENT_BODY_FIELDS, optional=EVENT_OPTIONAL, closed=False),
                  errors=(403, 422), description="As the new-event page. " + EVENT_RULES),
        Operation("patch", "/events/{event_id}", "Change an event (its organisers)", "events", ref("EventDetail"),
                  scope="write", params=(event_id,),
                  body=body(EVENT_BODY_FIELDS, optional=tuple(EVENT_BODY_FIELDS), closed=False),
                  errors=(403, 422),
                  description="Send only the fields to change (null clears lat, lon or freeze_at, e.g. to lift a "
                              "scoreboard freeze); the edit page's rules apply to the result. The mode changes "
                              "only while the event has no entries or quests, dynamic values only before the "
                              "start. " + EVENT_RULES),
        Operation("post", "/events/{event_id}/quests", "Put a quest in play (the event's organisers)", "events",
                  ref("EventQuestAdded"), 201, scope="write", params=(event_id,),
                  body=body({"quest_id": ID_SCHEMA}, closed=False), errors=(403, 409, 422),
                  description="A published quest of the event's mode in no other event (else 422; an unknown "
                              "quest_id too). After the end: 409. With dynamic values on, the quest takes them."),
        Operation("delete", "/events/{event_id}/quests/{quest_id}", "Take a quest out of play (the event's "
                  "organisers)", "events", ref("EventQuestRemoved"), scope="write",
                  params=(event_id, path_id("quest_id", "quest")), errors=(403, 409),
                  description="Only before the start (409 after). A quest not in this event: 404."),
        Operation("post", "/events/{event_id}/organisers", "Add a co-organiser (the event's organisers)", "events",
                  ref("EventOrganiserAdded"), 201, scope="write", params=(event_id,),
                  body=body({"user_id": ID_SCHEMA}, closed=False), errors=(403, 409, 422),
                  description="Someone with an organiser account (else 422); one who organises it already: 409."),
        # campaigns
        Operation("post", "/campaigns", "Create a campaign (organisers)", "campaigns", ref("CampaignDetail"), 201,
                  scope="write",
                  body=body({"title": text_in(CAMPAIGN_TITLE_MAX, 3), "why": text_in(WHY_MAX), "area": area_body(),
                             "categories": {"type": "array", "items": {"enum": categories}, "maxItems": 100,
                                            "description": "None (or every one): every category counts."},
                             "goal": {"type": "integer", "minimum": 1, "maximum": GOAL_MAX},
                             "starts_at": TIMESTAMP_IN, "ends_at": TIMESTAMP_IN,
                             "start": {**enum(["now", "vote"]), "default": "now"},
                             "voting_closes_at": TIMESTAMP_IN},
                            optional=("categories", "starts_at", "start", "voting_closes_at"), closed=False),
                  errors=(403, 422),
                  description="As the new-campaign page: launched now (`start` \"now\", the default), or put to "
                              "the community's vote until `voting_closes_at` (`start` \"vote\"; ignored "
                              "otherwise). The end is in the future and after the start; voting closes in the "
                              "future and before the end. A wrong area is named in `fields.area`."),
        Operation("post", "/campaigns/{campaign_id}/pledges", "Pledge tokens to a campaign in a vote", "campaigns",
                  ref("Pledge"), 201, scope="write", params=(campaign_id,),
                  body=body({"tokens": {"type": "integer", "minimum": 1}}, closed=False), errors=(409, 422),
                  description="Tokens come from your lifetime points (TOKEN_POINTS each); each pledge adds to your "
                              "earlier ones. Voting closed: 409; more tokens than you have: 422 "
                              "(not_enough_tokens)."),
        Operation("post", "/campaigns/close-voting", "Count the votes that have closed (organisers)", "campaigns",
                  ref("VoteCount"), scope="write", errors=(403,),
                  description="Of the campaigns whose voting has closed, the one with the most tokens pledged (then "
                              "people) is chosen; the others go back to proposed. Also done on a schedule."),
        Operation("post", "/campaigns/{campaign_id}/launch", "Launch the chosen campaign (its organiser)",
                  "campaigns", ref("CampaignDetail"), scope="write", params=(campaign_id,),
                  body=body({"ends_at": TIMESTAMP_IN}, optional=("ends_at",), closed=False), body_required=False,
                  errors=(403, 409, 422),
                  description="Only the campaign the community chose, once (else 409). A planned end that has "
                              "passed needs a new `ends_at` in the future (422)."),
        # fix stories
        Operation("get", "/problems/{problem_id}/fix-story", "A problem's fix story", "problems", ref("FixStory"),
                  params=(problem_id,), description="404 while the problem has no published story."),
        Operation("post", "/problems/{problem_id}/fix-story", "Tell how a problem was fixed", "problems",
                  ref("FixStory"), 201, scope="write", params=(problem_id,),
                  body=body({"story": text_in(STORY_MAX)}, closed=False), errors=(403, 409, 422),
                  description="By someone credited with an approved fix of the problem, or an organiser; never a "
                              "child's account (403). Once per problem (409). Its author adds the before and after "
                              "photos with POST /problems/{problem_id}/fix-story/photos."),
    ]
