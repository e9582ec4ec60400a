"""Open311 fixtures: an api_key, posting and reading helpers that check every answer
against the spec (JSON schemas in schemas/, XML parsed with xml.etree)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from extensions import db
from open311 import services

SCHEMAS = Path(__file__).parent / "schemas"
BASE = "/open311/v2"
AT_BROAD_STREET = {"lat": "51.4545", "long": "-2.5879"}


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.json").read_text())


def check_json(response, name: str):
    assert response.content_type == "application/json; charset=utf-8"
    body = response.get_json()
    jsonschema.validate(body, schema(name))
    return body


def check_xml(response, root: str, item: str | None = None) -> ET.Element:
    """Parse an XML answer: UTF-8 with a declaration, namespaceless, the spec's names."""
    assert response.content_type == "text/xml; charset=utf-8"
    assert response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    tree = ET.fromstring(response.data)
    assert tree.tag == root
    for element in tree.iter():
        assert not element.tag.startswith("{"), f"namespaced element {element.tag}"
        assert not any(name.startswith("xmlns") for name in element.attrib)
    if item is not None:
        assert all(child.tag == item for child in tree)
    return tree


@pytest.fixture
def new_key(ctx):
    def _make(name: str = "Bristol City Council") -> str:
        _key, plain = services.create_key(db.session, name=name)
        db.session.commit()
        return plain
    return _make


@pytest.fixture
def api_key(new_key) -> str:
    return new_key()


@pytest.fixture
def post(client, api_key):
    def _post(fmt: str = "json", **fields):
        data = {"api_key": api_key, "service_code": "pothole", **AT_BROAD_STREET,
                "description": "A deep pothole by the bus stop."}
        data.update(fields)
        data = {k: v for k, v in data.items() if v is not None}
        return client.post(f"{BASE}/requests.{fmt}", data=data, csrf=False)
    return _post
