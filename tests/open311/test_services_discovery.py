"""Discovery, services and service definitions in both formats."""
from __future__ import annotations

import pytest

from tests.open311.conftest import BASE, check_json, check_xml


def test_discovery_names_this_endpoint_in_both_formats(client):
    body = check_json(client.get(f"{BASE}/discovery.json"), "discovery")
    assert body["endpoints"][0]["url"].endswith("/open311/v2")
    tree = check_xml(client.get(f"{BASE}/discovery.xml"), "discovery")
    assert [e.tag for e in tree.find("endpoints")] == ["endpoint"]
    assert [f.text for f in tree.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


def test_services_are_the_categories_with_url_safe_codes(client, app):
    app.config["CATEGORIES"], saved = ("pothole", "street lighting", "fly-tipping"), app.config["CATEGORIES"]
    try:
        body = check_json(client.get(f"{BASE}/services.json"), "services")
        tree = check_xml(client.get(f"{BASE}/services.xml"), "services", "service")
    finally:
        app.config["CATEGORIES"] = saved
    assert [s["service_code"] for s in body] == ["pothole", "street-lighting", "fly-tipping"]
    assert {"service_name": "Street lighting", "metadata": False, "type": "realtime"}.items() <= body[1].items()
    first = tree.find("service")
    assert [child.tag for child in first] == ["service_code", "service_name", "description", "metadata", "type",
                                              "keywords", "group"]
    assert first.find("metadata").text == "false"


def test_service_definition_has_an_empty_attribute_list(client):
    body = check_json(client.get(f"{BASE}/services/pothole.json"), "service_definition")
    assert body == {"service_code": "pothole", "attributes": []}
    tree = check_xml(client.get(f"{BASE}/services/pothole.xml"), "service_definition")
    assert tree.find("service_code").text == "pothole" and list(tree.find("attributes")) == []


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_code_is_a_404_error_list(client, fmt):
    response = client.get(f"{BASE}/services/unicorns.{fmt}")
    assert response.status_code == 404
    if fmt == "json":
        assert check_json(response, "errors")[0]["code"] == 404
    else:
        tree = check_xml(response, "errors", "error")
        assert tree.find("error/code").text == "404" and tree.find("error/description").text


@pytest.mark.parametrize("path", ["services.html", "services.yaml", "requests.csv", "requests/1.txt",
                                  "nothing-here.xml", "discovery"])
def test_unknown_formats_and_paths_are_clean_404s(client, path):
    response = client.get(f"{BASE}/{path}")
    assert response.status_code == 404
    check_xml(response, "errors", "error")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_tokens_are_never_issued_so_every_token_is_404(client, fmt):
    response = client.get(f"{BASE}/tokens/abc123.{fmt}")
    assert response.status_code == 404
    if fmt == "json":
        check_json(response, "errors")
    else:
        check_xml(response, "errors", "error")
