"""GeoReport v2 documents in XML (mandatory) and JSON, built from plain data.

One dict shape feeds both formats. XML: namespaceless, UTF-8, with the declaration the spec
asks for; None becomes an empty element, booleans true/false, a nested dict nested
elements, a list one element per item (named by SINGULAR). JSON: the same values; request,
service and error containers are always arrays, even for one item.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from datetime import datetime

from flask import Response

from challenges.models import RESOLVED_STATES, Problem
from open311.services import RequestUpdate, Service, service_of_category
from timeutil import isoformat

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
SINGULAR = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# FixQuest's finer states in words (status_notes) for the spec's open/closed.
STATUS_NOTES = {
    "open": "Open: reported, waiting for someone to take it on.",
    "confirmed": "Open: confirmed by others who see it too.",
    "in_progress": "Open: work on it is in progress.",
    "fixed": "Closed: fixed.",
    "closed": "Closed without a fix (or merged into another request).",
}


def spec_status(status: str) -> str:
    return "closed" if status in RESOLVED_STATES else "open"


# --- documents -----------------------------------------------------------------------------

def service_doc(service: Service) -> dict:
    return {"service_code": service.code, "service_name": service.name,
            "description": f"Report a problem of the kind '{service.category}'.",
            "metadata": False, "type": "realtime", "keywords": service.category,
            "group": "street problems"}


def definition_doc(service: Service) -> dict:
    """A service definition; FixQuest asks no extra questions, so its attributes are empty."""
    return {"service_code": service.code, "attributes": []}


def request_doc(problem: Problem, *, categories: Sequence[str], agency: str | None,
                media_url: str | None, extensions: bool) -> dict:
    service = service_of_category(categories, problem.category)
    doc = {
        "service_request_id": str(problem.id),
        "status": spec_status(problem.status),
        "status_notes": STATUS_NOTES.get(problem.status, problem.status),
        "service_name": service.name,
        "service_code": service.code,
        "description": problem.description,
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": isoformat(problem.created_at),
        "updated_datetime": isoformat(problem.updated_at),
        "expected_datetime": None,
        "address": problem.address,
        "address_id": None,
        "zipcode": None,
        "lat": problem.lat,
        "long": problem.lon,
        "media_url": media_url,
    }
    if extensions:
        doc["detailed_status"] = problem.status.upper()
        doc["extended_attributes"] = {"title": problem.title, "detailed_status": problem.status,
                                      "confirmations_count": problem.confirmations_count}
    return doc


def receipt_doc(problem: Problem) -> dict:
    """POST requests' answer. account_id stays empty: FixQuest keeps no client accounts."""
    return {"service_request_id": str(problem.id), "service_notice": None, "account_id": None}


def update_doc(update: RequestUpdate, media_url: str | None) -> dict:
    return {"update_id": update.update_id, "service_request_id": update.service_request_id,
            "status": update.status, "updated_datetime": isoformat(update.updated_datetime),
            "description": update.description, "media_url": media_url}


def discovery_doc(*, url: str, changeset: datetime, contact: str, key_service: str) -> dict:
    return {"changeset": isoformat(changeset), "contact": contact, "key_service": key_service,
            "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": url,
                           "changeset": isoformat(changeset), "type": "production",
                           "formats": ["text/xml", "application/json"]}]}


def error_docs(status: int, descriptions: Sequence[str]) -> list[dict]:
    return [{"code": status, "description": text} for text in descriptions]


# --- rendering -----------------------------------------------------------------------------

def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for name, inner in value.items():
            _fill(ET.SubElement(element, name), inner)
    elif isinstance(value, list):
        for item in value:
            _fill(ET.SubElement(element, SINGULAR.get(element.tag, "item")), item)
    else:
        element.text = _text(value)


def to_xml(root: str, value: dict | list, item: str | None = None) -> bytes:
    """`value` a dict (a document) or a list of dicts, each an `item` element under root."""
    element = ET.Element(root)
    if isinstance(value, list):
        for entry in value:
            _fill(ET.SubElement(element, item), entry)
    else:
        _fill(element, value)
    return XML_DECLARATION + ET.tostring(element, encoding="utf-8", xml_declaration=False)


def respond(fmt: str, value: dict | list, *, root: str, item: str | None = None, status: int = 200) -> Response:
    if fmt == "json":
        body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    else:
        body = to_xml(root, value, item)
    return Response(body, status=status, content_type=FORMATS[fmt])


def respond_errors(fmt: str, status: int, descriptions: Sequence[str]) -> Response:
    return respond(fmt if fmt in FORMATS else "xml", error_docs(status, descriptions),
                   root="errors", item="error", status=status)


def photo_url_for(problem_ids: Sequence[int], photos: dict[int, list], url: Callable[[str], str]) -> dict[int, str]:
    """The first public photo of each problem as an absolute URL."""
    return {pid: url(photos[pid][0].storage_key) for pid in problem_ids if photos.get(pid)}
