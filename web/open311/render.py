"""GeoReport v2's two formats from one structure: JSON, and XML with the spec's element names.

A list is written in XML as repeated children named by ``ITEMS`` (``services`` → ``service``,
``attributes`` → ``attribute``, …); ``True``/``False`` as ``true``/``false``; ``None`` and
``""`` as an empty element in XML and ``null`` in JSON; times as ISO 8601 with the offset, e.g.
``2026-11-29T20:15:00+08:00``.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}


def _plain(value):
    if value == "":
        return None  # the Spark convention: an empty XML element is null in JSON (the spec's examples)
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    return str(value)


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(ET.SubElement(element, key), inner)
    elif isinstance(value, list):
        for inner in value:
            _fill(ET.SubElement(element, ITEMS[element.tag]), inner)
    else:
        element.text = _text(value)


def to_xml(root: str, value) -> bytes:
    element = ET.Element(root)
    _fill(element, value)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="utf-8", xml_declaration=False)


def to_json(value) -> bytes:
    return json.dumps(_plain(value), ensure_ascii=False).encode("utf-8")


def respond(fmt: str, root: str, value, status: int = 200) -> HttpResponse:
    """``value`` under the XML root ``root`` (JSON has no root: the value itself)."""
    body = to_json(value) if fmt == "json" else to_xml(root, value)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def error(fmt: str, status: int, description: str) -> HttpResponse:
    """The spec's error format: a list of {code, description}, XML root ``errors``."""
    return respond(fmt, "errors", [{"code": status, "description": description}], status=status)
