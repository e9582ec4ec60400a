"""The human-readable API page: vendored Swagger UI under the site's strict CSP."""
from __future__ import annotations

import re

from web import content_security_policy


def test_api_page_shows_swagger_ui_over_the_openapi_document(client, app):
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-spec-url="/api/v1/openapi.json"' in page
    assert 'href="/api/v1/openapi.json"' in page  # and a plain link, without JavaScript
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)  # no inline script
    assert response.headers["Content-Security-Policy"] == content_security_policy(app.config["MAP_TILE_URL"])


def test_swagger_ui_is_served_from_our_own_origin_with_its_licence(client):
    for path in ("vendor/swagger-ui/swagger-ui-bundle.js", "vendor/swagger-ui/swagger-ui.css",
                 "vendor/swagger-ui/LICENSE", "js/api-docs.js"):
        response = client.get(f"/static/{path}")
        assert response.status_code == 200, path
        response.close()


def test_every_page_links_the_api_page_in_its_footer(client):
    assert 'href="/api/docs"' in client.get("/").get_data(as_text=True)
