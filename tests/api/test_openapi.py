"""The OpenAPI document (api/openapi.py) says what the code does."""
from __future__ import annotations

from jsonschema import Draft202012Validator

from tests.api.contract import openapi_path

IGNORED_METHODS = {"HEAD", "OPTIONS"}  # answered for every GET (HEAD) and URL (OPTIONS, CORS preflight)


def routes_in_app(app) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        path = openapi_path(rule.rule)
        if path == "/api/v1" or path.startswith("/api/v1/"):
            found.setdefault(path, set()).update(m.lower() for m in rule.methods - IGNORED_METHODS)
    return found


def routes_in_document(document) -> dict[str, set[str]]:
    return {path: set(item) for path, item in document["paths"].items()}


def drift(app, document) -> list[str]:
    """What the document and the url_map disagree on, one line each."""
    code, documented = routes_in_app(app), routes_in_document(document)
    lines = []
    for path in sorted(code.keys() | documented.keys()):
        for method in sorted(code.get(path, set()) - documented.get(path, set())):
            lines.append(f"undocumented: {method.upper()} {path} (add an Operation to api/openapi.py or its area module)")
        for method in sorted(documented.get(path, set()) - code.get(path, set())):
            lines.append(f"documented but not routed: {method.upper()} {path} (remove it from api/openapi.py)")
    return lines


def test_document_is_served_as_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/problems" in document["paths"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_every_api_route_is_documented_and_nothing_else(app, contract):
    problems = drift(app, contract.document)
    assert not problems, "The OpenAPI document and the routes differ:\n  " + "\n  ".join(problems)


def test_drift_names_what_is_missing(app, contract):
    """The check above can fail, and says exactly what is wrong."""
    document = {**contract.document, "paths": dict(contract.document["paths"])}
    del document["paths"]["/api/v1/teams/join"]
    document["paths"]["/api/v1/gone"] = {"get": {}}
    assert drift(app, document) == [
        "documented but not routed: GET /api/v1/gone (remove it from api/openapi.py)",
        "undocumented: POST /api/v1/teams/join (add an Operation to api/openapi.py or its area module)",
    ]


def test_every_schema_is_valid_json_schema_2020_12(contract):
    document = contract.document
    for name, schema in document["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                Draft202012Validator.check_schema(parameter["schema"])
                if parameter["in"] == "path":
                    assert "{" + parameter["name"] + "}" in path, (method, path, parameter["name"])
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                Draft202012Validator.check_schema(media["schema"])


def test_every_path_parameter_is_declared(contract):
    import re

    for path, item in contract.document["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, f"{method.upper()} {path}: path parameters {names}, declared {declared}"


def test_operations_say_who_may_call_them(contract):
    """Writes need a write token; the security scheme is declared once."""
    assert contract.document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, item in contract.document["paths"].items():
        for method, operation in item.items():
            if method in ("post", "put", "patch", "delete") and path != "/api/v1/tokens":
                assert operation["security"] == [{"bearer": ["write"]}], (method, path)
                assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_a_response_that_breaks_its_schema_is_caught(contract, app, ctx):
    """The contract check is what every API test runs; prove it can fail."""
    import pytest
    from flask import Response

    with app.test_request_context("/api/v1/teams/1"):
        from flask import request
        response = Response('{"id": 1, "name": "x"}', mimetype="application/json")
        response.request = request
        with pytest.raises(AssertionError, match="does not match its schema"):
            contract.check(app, response)
