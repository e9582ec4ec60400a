"""HTTP manners for the open interfaces (the JSON API and Open311): any site's software
may read them, and readers that poll them pay little.

* CORS: every response allows any origin. That is safe because these interfaces never
  read the session cookie (the API takes a bearer token, Open311 an api_key), and no
  credentials are allowed, so a page elsewhere gains nothing it could not fetch itself.
  Preflight requests (OPTIONS) are answered with the methods the URL takes.
* Conditional GETs: a successful GET carries a strong ETag over its body, and a request
  whose If-None-Match matches gets 304 Not Modified with no body. Responses to a request
  with a token say `private` and vary on Authorization, so a shared cache never hands
  one person's view to another; anonymous ones are `public`. Both say `no-cache`:
  reuse only after revalidating, which the ETag makes cheap.

Each open blueprint registers `open_to_all` as its after_request hook where it is defined.
"""
from __future__ import annotations

from flask import Response, request

ALLOWED_HEADERS = "Authorization, Content-Type, If-None-Match, If-Modified-Since"
EXPOSED_HEADERS = "ETag, Location, Retry-After, Link"
PREFLIGHT_MAX_AGE_S = 86400


def open_to_all(response: Response) -> Response:
    headers = response.headers
    headers["Access-Control-Allow-Origin"] = "*"
    headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.method == "OPTIONS":
        headers["Access-Control-Allow-Methods"] = response.headers.get("Allow", "GET, HEAD, OPTIONS")
        headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
        return response
    if request.method in ("GET", "HEAD") and response.status_code == 200 and not response.is_streamed:
        personal = "Authorization" in request.headers
        response.cache_control.no_cache = True
        if personal:
            response.cache_control.private = True
        else:
            response.cache_control.public = True
        response.vary.add("Authorization")
        if not response.get_etag()[0]:
            response.add_etag()
        response.make_conditional(request)
    return response
