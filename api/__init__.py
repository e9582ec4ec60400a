"""JSON API /api/v1, authenticated with bearer tokens.

Layout:
  errors.py       transport errors (400 body, 401 token) and the one JSON error handler:
                  every 4xx/5xx under /api/ is {"error": {"code", "message", "fields"}}
  auth.py         `token_required`: reads `Authorization: Bearer <token>`
  parsing.py      the JSON body and query string: JSON types checked here, 422 naming the
                  field; domain rules (ranges, lengths, permissions) stay in the services
  serializers.py  models to JSON (never an email address)
  routes.py       the views: parse, call one service, commit, serialise (tokens, problems,
                  quests, claims, leaderboards, a team, kudos, my data)
  teams.py, events.py, campaigns.py, classes.py, people.py, moderation.py
                  the same, for teams, events, campaigns, school classes (their teacher's
                  actions, CSV export and board), people (/me, badges, notifications),
                  and moderation and administration (flags, the queue, holds, the admins' account list,
                  suspensions, roles, the word list, integrity alerts, the audit log)
  account.py, invites.py, webhooks.py
                  your tokens and what you follow; team invite links; webhooks
  media.py, deletion.py
                  photos added to a report, a comment, a claim's evidence or a fix story (the
                  only multipart/form-data bodies: parsing.uploaded_files); deleting your account

State-changing routes need a token; public reads do not. Every response allows any
origin, and GETs carry an ETag and answer If-None-Match with 304 (openhttp.py). Lists are paginated as
{"items", "page", "page_size", "total", "next", "prev"}; `next`/`prev` are URL paths
(parsing.paginated for a query, paginated_list for a short list a service already built).
"""
from flask import Blueprint

import openhttp

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.after_request(openhttp.open_to_all)  # CORS and conditional GETs

from api import errors, routes  # noqa: E402,F401  (register handlers and routes on bp)
from api import geojson  # noqa
from api import campaigns, classes, events, people, teams  # noqa: E402,F401
from api import account, invites, webhooks  # noqa: E402,F401  (tokens, follows; invite links; webhooks)
from api import moderation  # noqa: E402,F401
from api import deletion, media  # noqa: E402,F401  (photos by multipart upload; deleting your account)
from api import openapi  # noqa: E402,F401  (GET /api/v1/openapi.json)
