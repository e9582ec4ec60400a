"""The OpenAPI document of the managing routes: a teacher's school classes (api/classes.py,
beside the class board in the core list) and moderation and administration
(api/moderation.py). Added to the document through api.openapi.AREAS."""
from __future__ import annotations

from accounts.models import Role
from api.openapi import (BOOLEAN, DATETIME, ID_SCHEMA, INTEGER, LINK, STRING, TIMESTAMP_IN, Operation, Schema, enum,
                         nullable, obj, page_params, path_id, query, ref, text_in)
from classes.models import SecretKind
from classes.services import MAX_CLASS_SIZE
from moderation.audit import Action
from moderation.models import REASON_LABELS, FlagStatus, Kind, Visibility
from moderation.services import FLAG_TEXT_MAX, REASON_MAX
from moderation.wordlist import WORD_MAX

TAGS = ["classes", "moderation", "admin"]

COUNT = {"type": "integer", "minimum": 0}
KIND = enum(Kind)
SECRET_KIND = enum([SecretKind.password, SecretKind.pictures])
CLASS_PROPERTIES = {
    "id": INTEGER, "name": STRING, "team_id": INTEGER,
    "code": {**STRING, "description": "The class code children type on the login page."},
    "secret_kind": SECRET_KIND, "streaks_enabled": BOOLEAN, "show_in_rankings": BOOLEAN, "archived": BOOLEAN,
    "archived_at": nullable(DATETIME), "children_deleted_at": nullable(DATETIME), "children_count": COUNT,
    "created_at": DATETIME, "url": LINK,
}
CARD = obj({"child_id": INTEGER, "card_name": STRING, "class_code": STRING, "kind": SECRET_KIND,
            "password": {**nullable(STRING), "description": "A password card's secret (null for picture-PINs)."},
            "pictures": {**nullable({"type": "array", "items": obj({"code": STRING, "name": STRING}),
                                     "minItems": 4, "maxItems": 4}),
                         "description": "A picture-PIN's pictures in order (null for passwords)."}})
NAME_REQUEST = {"id": INTEGER, "child_id": INTEGER, "requested_name": STRING,
                "status": enum(["pending", "approved", "refused"]), "created_at": DATETIME,
                "decided_at": nullable(DATETIME)}
HOLD_PROPERTIES = {"id": INTEGER, "claim_id": INTEGER, "child_id": INTEGER,
                   "state": enum(["pending", "approved", "rejected"]), "created_at": DATETIME,
                   "decided_at": nullable(DATETIME)}
LABEL = {**STRING, "description": "The item's text as the queue quotes it (a profile: its name); at most 500 "
                                  "characters. A child's is shown only to their teacher."}

SCHEMAS: dict[str, Schema] = {
    "SchoolClass": obj(CLASS_PROPERTIES),
    "SchoolClassList": obj({"items": {"type": "array", "items": ref("SchoolClass")}}),
    "LoginCards": obj({"class_id": INTEGER, "cards": {"type": "array", "items": CARD,
                                                      "description": "Shown this once: only hashes are kept."}}),
    "NewSchoolClass": obj({"class": ref("SchoolClass"), "class_id": INTEGER,
                           "cards": {"type": "array", "items": CARD}}),
    "ClassDashboard": obj({
        **CLASS_PROPERTIES,
        "children": {"type": "array", "items": obj({
            "id": INTEGER, "card_name": STRING, "name": STRING, "claims": COUNT, "submitted": COUNT,
            "approved": COUNT, "badges": {"type": "array", "items": STRING}, "points": INTEGER})},
        "team_points": INTEGER, "claims_waiting": COUNT,
        "name_requests": {"type": "array", "items": obj(NAME_REQUEST)}}),
    "NameRequest": obj(NAME_REQUEST),
    "ChildrenDeleted": obj({"class_id": INTEGER, "children_deleted": COUNT}),
    "Flag": obj({"id": INTEGER, "kind": KIND, "object_id": INTEGER, "reason": enum(REASON_LABELS),
                 "status": enum(FlagStatus), "created_at": DATETIME}),
    "ModerationQueue": obj({
        "held": {"type": "array", "items": obj({"kind": KIND, "object_id": INTEGER, "label": LABEL,
                                                "reason": nullable(STRING), "held_at": DATETIME})},
        "flagged": {"type": "array", "items": obj({
            "kind": KIND, "object_id": INTEGER, "label": LABEL, "visibility": enum(Visibility),
            "flags": {"type": "integer", "minimum": 1},
            "reasons": {"type": "object", "additionalProperties": INTEGER,
                        "description": "How many flags gave each reason."},
            "texts": {"type": "array", "items": STRING}, "first_flagged_at": DATETIME})}}),
    "ModerationDecision": obj({"kind": KIND, "object_id": INTEGER,
                               "action": enum(["hide", "restore", "dismiss", "release"]),
                               "visibility": enum(Visibility),
                               "flags_closed": {**nullable(COUNT), "description": "For dismiss: flags closed."}}),
    "HeldEvidence": obj(HOLD_PROPERTIES),
    "HeldEvidenceList": obj({"items": {"type": "array", "items": obj({
        **HOLD_PROPERTIES, "child": STRING, "quest": obj({"id": INTEGER, "title": STRING}),
        "team_id": nullable(INTEGER), "evidence": nullable(STRING),
        "photos": {"type": "array", "items": obj({"url": LINK, "thumbnail": LINK}),
                   "description": "The evidence photos, served (with your session, as on the page) to the "
                                  "child's teacher only."}})}}),
    "AdminUser": obj({"id": INTEGER, "name": {**STRING, "description": "\"a pupil\" for a child."},
                      "role": STRING, "suspended": BOOLEAN, "suspended_until": nullable(DATETIME),
                      "suspension_reason": nullable(STRING)}),
    "HeldWord": obj({"id": INTEGER, "word": STRING, "created_at": DATETIME}),
    "HeldWords": obj({"items": {"type": "array", "items": ref("HeldWord")},
                      "configured": {"type": "array", "items": STRING,
                                     "description": "Words set in FIXQUEST_MODERATION_WORDS (not removable here)."}}),
    "WordRemoved": obj({"id": INTEGER, "word": STRING, "removed": {"const": True}}),
    "IntegrityAlert": obj({
        "id": INTEGER, "kind": enum(["pair", "teams"]), "approvals": INTEGER, "created_at": DATETIME,
        "reviewer": nullable(STRING), "claimant": nullable(STRING), "teams": {"type": "array", "items": STRING},
        "claim_ids": {"type": "array", "items": INTEGER},
        "involved": {**BOOLEAN, "description": "About you or your team: another organiser reviews it."},
        "reviewed_at": nullable(DATETIME)}),
    "IntegrityAlertList": obj({"items": {"type": "array", "items": ref("IntegrityAlert")}}),
    "AuditPage": obj({
        "items": {"type": "array", "items": obj({
            "id": INTEGER, "created_at": DATETIME, "actor_id": nullable(INTEGER),
            "actor": {**STRING, "description": "A name, \"command line\" or \"deleted account\"."},
            "action": enum(Action), "object_kind": nullable(STRING), "object_id": nullable(INTEGER),
            "reason": nullable(STRING), "detail": nullable({"type": "object"})})},
        "page": {"type": "integer", "minimum": 1}, "page_size": {"type": "integer", "minimum": 1},
        "total": COUNT, "next": nullable(STRING), "prev": nullable(STRING)}),
}


def operations(categories: list[str]) -> list[Operation]:
    body = obj  # request bodies: every field optional unless listed, unknown fields ignored
    class_id = path_id("class_id", "class")
    user_id = path_id("user_id", "user")
    confirm = body({"confirm": {"const": True}}, closed=False)
    teacher_only = "Only the class's teacher: to anyone else the class is 404, whether or not it exists."
    return [
        # school classes (the board is in the core list)
        Operation("get", "/classes", "Your school classes (teachers)", "classes", ref("SchoolClassList"),
                  scope="read", errors=(403,), description="Open ones first. Not an organiser: 403."),
        Operation("post", "/classes", "Make a class and its children's login cards", "classes",
                  ref("NewSchoolClass"), 201, scope="write",
                  body=body({"name": text_in(60, 2), "size": {"type": "integer", "minimum": 1,
                                                              "maximum": MAX_CLASS_SIZE},
                             "secret_kind": SECRET_KIND}, closed=False),
                  errors=(403, 409, 422),
                  description="Organisers only. The cards' secrets are in this response only (Cache-Control: "
                              "no-store). A name another team has: 409."),
        Operation("get", "/classes/{class_id}", "A class's dashboard (its teacher)", "classes",
                  ref("ClassDashboard"), scope="read", params=(class_id,), errors=(403,),
                  description="Each child's work, and the names waiting for approval. " + teacher_only),
        Operation("post", "/classes/{class_id}/children", "Add children (and their login cards)", "classes",
                  ref("LoginCards"), 201, scope="write", params=(class_id,),
                  body=body({"count": {"type": "integer", "minimum": 1, "maximum": MAX_CLASS_SIZE}}, closed=False),
                  errors=(409, 422),
                  description=f"At most {MAX_CLASS_SIZE} children in a class (422); an archived class: 409; "
                              "a class team entered in an event that has not ended grows only to the event's "
                              "team size (409 team_full). " + teacher_only),
        Operation("post", "/classes/{class_id}/reset", "New login cards for every child (or some)", "classes",
                  ref("LoginCards"), scope="write", params=(class_id,),
                  body=body({"child_ids": {"type": "array", "items": ID_SCHEMA, "maxItems": 100}},
                            optional=("child_ids",), closed=False),
                  body_required=False, errors=(409, 422),
                  description="The old secrets stop working at once. A child not in the class: 404. " + teacher_only),
        Operation("post", "/classes/{class_id}/children/{child_id}/reset", "A new login card for one child",
                  "classes", ref("LoginCards"), scope="write", params=(class_id, path_id("child_id", "child")),
                  errors=(409,), description="The old secret stops working at once. " + teacher_only),
        Operation("post", "/classes/{class_id}/settings", "Streaks and public team rankings", "classes",
                  ref("SchoolClass"), scope="write", params=(class_id,),
                  body=body({"streaks_enabled": BOOLEAN, "show_in_rankings": BOOLEAN},
                            optional=("streaks_enabled", "show_in_rankings"), closed=False),
                  errors=(409, 422), description="A setting left out stays as it is. " + teacher_only),
        Operation("post", "/classes/{class_id}/names/{request_id}/{decision}", "Approve or refuse a child's name",
                  "classes", ref("NameRequest"), scope="write",
                  params=(class_id, path_id("request_id", "name request"),
                          {"name": "decision", "in": "path", "required": True,
                           "schema": enum(["approve", "refuse"])}),
                  errors=(409,), description="Decided already, or the class is archived: 409. " + teacher_only),
        Operation("post", "/classes/{class_id}/archive", "Archive a class (read-only; no more logins)", "classes",
                  ref("SchoolClass"), scope="write", params=(class_id,), body=confirm, errors=(409, 422),
                  description="Send {\"confirm\": true} (422 without). Archived already: 409. " + teacher_only),
        Operation("post", "/classes/{class_id}/delete-children", "Delete an archived class's children's accounts",
                  "classes", ref("ChildrenDeleted"), scope="write", params=(class_id,), body=confirm,
                  errors=(409, 422),
                  description="Send {\"confirm\": true}. The class's points stay. Not archived yet: 409. "
                              + teacher_only),
        # moderation
        Operation("post", "/flags", "Flag something abusive for the moderators", "moderation", ref("Flag"), 201,
                  scope="write",
                  body=body({"kind": KIND, "object_id": ID_SCHEMA, "reason": enum(REASON_LABELS),
                             "text": text_in(FLAG_TEXT_MAX, 0)}, optional=("text",), closed=False),
                  errors=(403, 404, 409, 422, 429),
                  description="Something you cannot see: 404. Your own, or a child's account: 403. Flagged by you "
                              "already, or out of public view: 409."),
        Operation("get", "/moderation/queue", "The moderators' queue (organisers)", "moderation",
                  ref("ModerationQueue"), scope="read", errors=(403,)),
        Operation("post", "/moderation/{kind}/{object_id}/{action}", "Hide, restore, dismiss flags or release "
                  "(organisers)", "moderation", ref("ModerationDecision"), scope="write",
                  params=({"name": "kind", "in": "path", "required": True, "schema": KIND},
                          path_id("object_id", "item"),
                          {"name": "action", "in": "path", "required": True,
                           "schema": enum(["hide", "restore", "dismiss", "release"])}),
                  body=body({"reason": text_in(REASON_MAX, 0)}, optional=("reason",), closed=False),
                  body_required=False, errors=(403, 409, 422),
                  description="Hiding and restoring need a reason (422), shown to the owner. Nothing to do (already "
                              "hidden, no open flags, not held): 409. Written to the audit log."),
        Operation("get", "/holds", "Your pupils' evidence waiting for you (teachers)", "moderation",
                  ref("HeldEvidenceList"), scope="read", errors=(403,)),
        Operation("post", "/holds/{hold_id}/{decision}", "Release a pupil's evidence or send it back", "moderation",
                  ref("HeldEvidence"), scope="write",
                  params=(path_id("hold_id", "held evidence"),
                          {"name": "decision", "in": "path", "required": True, "schema": enum(["approve", "reject"])}),
                  errors=(409,), description="Only the child's teachers (403). Decided already: 409."),
        Operation("get", "/integrity/alerts", "Open integrity alerts (organisers)", "moderation",
                  ref("IntegrityAlertList"), scope="read", errors=(403,)),
        Operation("post", "/integrity/alerts/{alert_id}/reviewed", "Mark an integrity alert reviewed (organisers)",
                  "moderation", ref("IntegrityAlert"), scope="write", params=(path_id("alert_id", "alert"),),
                  errors=(409,), description="About you or your team: 403. Reviewed already: 409. Not an "
                                             "organiser: 404, as on the page."),
        # admin
        Operation("post", "/admin/users/{user_id}/suspend", "Suspend an account (admins)", "admin",
                  ref("AdminUser"), scope="write", params=(user_id,),
                  body=body({"reason": text_in(REASON_MAX), "until": TIMESTAMP_IN}, optional=("until",),
                            closed=False),
                  errors=(422,), description="Without `until`: until an admin lifts it. Every session ends. "
                                             "Yourself: 403. Written to the audit log."),
        Operation("post", "/admin/users/{user_id}/lift", "Lift a suspension (admins)", "admin", ref("AdminUser"),
                  scope="write", params=(user_id,), body=body({"reason": text_in(REASON_MAX, 0)},
                                                               optional=("reason",), closed=False),
                  body_required=False, errors=(409, 422), description="Not suspended: 409."),
        Operation("post", "/admin/users/{user_id}/role", "Set someone's role (admins)", "admin", ref("AdminUser"),
                  scope="write", params=(user_id,), body=body({"role": enum(Role)}, closed=False), errors=(422,),
                  description="A child's account stays a participant (422). Written to the audit log."),
        Operation("get", "/admin/words", "The word list that holds posts (admins)", "admin", ref("HeldWords"),
                  scope="read", errors=(403,)),
        Operation("post", "/admin/words", "Add a word or phrase to the list (admins)", "admin", ref("HeldWord"), 201,
                  scope="write", body=body({"word": text_in(WORD_MAX)}, closed=False), errors=(409, 422),
                  description="On the list already: 409."),
        Operation("delete", "/admin/words/{word_id}", "Take a word off the list (admins)", "admin",
                  ref("WordRemoved"), scope="write", params=(path_id("word_id", "word"),)),
        Operation("get", "/admin/audit", "The audit log, newest first (admins)", "admin", ref("AuditPage"),
                  scope="read", params=(query("action", enum(Action), "Only this action."), *page_params()),
                  errors=(403, 422)),
    ]
