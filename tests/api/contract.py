"""Checking real API responses against the OpenAPI document (api/openapi.py).

`check(document, app, response)` finds the documented operation for the request that got
`response` and validates the status, the content type and the body against its schema.
tests/api/conftest.py runs it on every response the API tests receive, so a serializer
and the document cannot drift apart unnoticed.
"""
from __future__ import annotations

import re

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from werkzeug.exceptions import HTTPException

DOC_URI = "urn:fixquest:openapi"
_PARAM = re.compile(r"<(?:[^<>]*:)?(\w+)>")


def openapi_path(rule: str) -> str:
    """A werkzeug rule as an OpenAPI path: /problems/<int(max=...):problem_id> -> /problems/{problem_id}."""
    return _PARAM.sub(r"{\1}", rule)


def pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


class Contract:
    def __init__(self, document: dict):
        self.document = document
        resource = Resource.from_contents(document, default_specification=_draft())
        self.registry = Registry().with_resource(DOC_URI, resource)
        self._validators: dict[str, Draft202012Validator] = {}

    def validator(self, location: str) -> Draft202012Validator:
        if location not in self._validators:
            self._validators[location] = Draft202012Validator({"$ref": f"{DOC_URI}#/{location}"},
                                                              registry=self.registry)
        return self._validators[location]

    def response_spec(self, path: str, method: str, status: int) -> tuple[dict, str] | None:
        responses = self.document["paths"][path][method]["responses"]
        spec = responses.get(str(status))
        if spec is None:
            return None
        location = pointer("paths", path, method, "responses", str(status))
        if "$ref" in spec:
            name = spec["$ref"].rsplit("/", 1)[1]
            spec = self.document["components"]["responses"][name]
            location = pointer("components", "responses", name)
        return spec, location

    def check(self, app, response) -> None:
        """Assert that `response` is what the document promises for its request."""
        request = response.request
        method = request.method.lower()
        if method in ("head", "options"):
            return
        try:
            rule, _ = app.url_map.bind("localhost").match(request.path, method=request.method, return_rule=True)
        except HTTPException:
            return  # no route: the routing errors are tested on their own (tests/api/test_errors.py)
        path = openapi_path(rule.rule)
        if not path.startswith("/api/v1"):
            return
        assert path in self.document["paths"], f"{path} is not in the OpenAPI document"
        assert method in self.document["paths"][path], f"{method.upper()} {path} is not in the OpenAPI document"
        found = self.response_spec(path, method, response.status_code)
        assert found is not None, (f"{method.upper()} {path} answered {response.status_code}, which the OpenAPI "
                                   f"document does not list: {response.get_data(as_text=True)[:300]}")
        spec, location = found
        content = spec.get("content")
        if not content:
            if 300 <= response.status_code < 400 and response.status_code != 304:
                return  # a redirect's body is a courtesy HTML link, not part of the API
            assert not response.get_data(), f"{method.upper()} {path} {response.status_code} should have no body"
            return
        assert response.mimetype in content, (
            f"{method.upper()} {path} {response.status_code} sent {response.mimetype}, documented: {list(content)}")
        if not response.is_json:
            return  # a text body (a class's CSV export): its media type is what the document promises
        schema_location = location + "/" + pointer("content", response.mimetype, "schema")
        errors = sorted(self.validator(schema_location).iter_errors(response.get_json(force=True)),
                        key=lambda e: list(e.absolute_path))
        assert not errors, (f"{method.upper()} {path} {response.status_code} does not match its schema: "
                            + "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]))


def _draft():
    from referencing.jsonschema import DRAFT202012
    return DRAFT202012
