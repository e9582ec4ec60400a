"""The OpenAPI operations and schemas of the admins' list of accounts (GET /admin/users, in
api/moderation.py) and a teacher's class export (GET /classes/{class_id}/export.csv, in
api/classes.py), an area module of api/openapi.py (listed in its AREAS)."""
from __future__ import annotations

from accounts.services import ACCOUNT_ROLES, SEARCH_MAX
from api.openapi import (BOOLEAN, DATETIME, INTEGER, LINK, STRING, Operation, Schema, enum, nullable, obj,
                         page_of, page_params, path_id, query, ref)
from classes.services import EXPORT_COLUMNS

TAGS = ("admin", "classes")

SCHEMAS: dict[str, Schema] = {
    "ListedUser": obj({
        "id": INTEGER, "name": {**STRING, "description": "\"a pupil\" for a child (unless you are their teacher)."},
        "email": {**nullable(STRING), "description": "Null for a child: children never give an email."},
        "child": {**BOOLEAN, "description": "A school-class child's account."},
        "role": enum(ACCOUNT_ROLES), "suspended": BOOLEAN, "suspended_until": nullable(DATETIME),
        "suspension_reason": nullable(STRING), "url": LINK}),
    "ListedUserPage": page_of("ListedUser"),
}

CSV = {"type": "string", "description": "CSV with a header row: " + ", ".join(EXPORT_COLUMNS) + ". A cell that "
       "a spreadsheet would take for a formula (starting = + - @) is quoted with a leading apostrophe."}


def operations(categories: list[str]) -> list[Operation]:
    return [
        Operation("get", "/admin/users", "Every account (admins)", "admin", ref("ListedUserPage"), scope="read",
                  params=(query("q", {"type": "string", "maxLength": SEARCH_MAX},
                                "Part of a display name or email (any case). A child is found by name only "
                                "by their teacher, never by an email."),
                          query("role", enum(ACCOUNT_ROLES), "Only accounts of this role."), *page_params()),
                  errors=(403, 422),
                  description="As the admins' users page lists them, oldest first. Not an admin: 403."),
        Operation("get", "/admin/users/{user_id}", "One account (admins)", "admin", ref("ListedUser"),
                  scope="read", params=(path_id("user_id", "user"),), errors=(403,),
                  description="As the admins' users page lists it. Not an admin: 403."),
        Operation("get", "/classes/{class_id}/export.csv", "Your class's work as CSV (its teacher)", "classes",
                  CSV, scope="read", params=(path_id("class_id", "class"),), media_type="text/csv",
                  description="One row per claim, the dashboard's download: card names and display names, "
                              "never a secret; never cached (no-store). Anyone but the class's teacher "
                              "(other organisers and admins included): 404, as every class route."),
    ]
