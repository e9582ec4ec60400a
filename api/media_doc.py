"""The OpenAPI operations and schemas of api/media.py (photos, uploaded as multipart/form-data)
and api/deletion.py (deleting your account), an area module of api/openapi.py (listed in
its AREAS)."""
from __future__ import annotations

from api.openapi import LINK, MULTIPART, STRING, Operation, Schema, obj, path_id, ref
from media.services import MAX_PHOTOS_PER_FORM

TAGS = ("photos",)

PHOTO = obj({"url": LINK, "thumbnail": LINK})
FILE = {"type": "string", "format": "binary",
        "description": "A JPEG, PNG, WebP or GIF file, judged by its content; re-encoded without metadata."}
LIMITS = (f"Each photo within PHOTO_MAX_BYTES and PHOTO_MAX_PIXELS, at most {MAX_PHOTOS_PER_FORM} per request "
          "and in all (more: 409 photo_limit_reached). One file that is not an acceptable photo refuses the lot "
          "(422 naming the field); a body that is not multipart/form-data: 415; over MAX_CONTENT_LENGTH: 413.")

SCHEMAS: dict[str, Schema] = {
    "AddedPhotos": obj({"photos": {"type": "array", "items": PHOTO, "minItems": 1,
                                   "description": "The photos just added, as they are served."}}),
}


def photos_body() -> Schema:
    return obj({"photos": {"type": "array", "items": FILE, "minItems": 1, "maxItems": MAX_PHOTOS_PER_FORM,
                           "description": "One file part per photo, each named `photos`."}}, closed=False)


def operations(categories: list[str]) -> list[Operation]:
    problem_id = path_id("problem_id", "problem")
    upload = {"scope": "write", "body": photos_body(), "body_media_type": MULTIPART}
    return [
        Operation("post", "/problems/{problem_id}/photos", "Add photos to your report", "photos",
                  ref("AddedPhotos"), 201, params=(problem_id,), errors=(403, 409, 429), **upload,
                  description="Its reporter only (never a child's account). " + LIMITS),
        Operation("post", "/problems/{problem_id}/updates/{update_id}/photos", "Add photos to your comment",
                  "photos", ref("AddedPhotos"), 201, params=(problem_id, path_id("update_id", "update")),
                  errors=(403, 409, 429), **upload,
                  description="Its author only; comments only (a status change, a merge or a fix story: 409). "
                              + LIMITS),
        Operation("post", "/claims/{claim_id}/photos", "Add evidence photos to a claim", "photos",
                  ref("AddedPhotos"), 201, params=(path_id("claim_id", "claim"),), errors=(403, 409, 429), **upload,
                  description="The claimant or their team, before the evidence is sent, while the quest runs: "
                              "they go with the evidence at submission (a child's held for their teacher, as the "
                              "form's are). Submitted evidence no longer changes (409), so reviewers and a "
                              "child's teacher judge what they saw. A pupil adds photos only to their own "
                              "claims (409). Private to the claim, like its evidence. " + LIMITS),
        Operation("post", "/problems/{problem_id}/fix-story/photos", "Add the before or after photo to your fix "
                  "story", "photos", ref("FixStory"), 201, params=(problem_id,), errors=(403, 409, 429),
                  scope="write", body_media_type=MULTIPART,
                  body=obj({"before_photo": FILE, "after_photo": FILE}, optional=("before_photo", "after_photo"),
                           closed=False),
                  description="The story's author only; each photo once (a slot that has one: 409); at least one "
                              "of the two (422). Answers with the story. Judged and cleaned as every photo; a file "
                              "that is not an acceptable photo: 422 naming its field."),
        Operation("delete", "/me", "Delete your account", "me", None, 204, scope="write",
                  body=obj({"password": STRING}, closed=False), errors=(403, 409, 422, 429),
                  description="As the \"Your data\" page: after your password (wrong: 422 on `password`, nothing "
                              "deleted). What you did stays, under \"a former participant\"; your tokens stop "
                              "working at once. A captain of a team with other members hands over first (409); a "
                              "child's account is deleted by their teacher (403)."),
    ]
