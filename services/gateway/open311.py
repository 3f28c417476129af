"""Open311 GeoReport v2 over our cases: the mapping both ways, and the JSON/XML renderings.

Our categories are Open311 services; an estate is chosen with the ``estate`` attribute (or
``address_id``), the household with the ``household`` attribute. Our states map to
``open`` / ``closed``: a case is closed for Open311 once it is resolved, closed or cancelled.
Pure functions: the route module does the I/O.
"""

from __future__ import annotations

import json
from xml.etree import ElementTree

from services.common.errors import LianxinError

FORMATS = ("json", "xml")
CLOSED_STATES = frozenset({"resolved", "closed", "cancelled"})
MAX_RESULTS = 1000


class Open311Error(LianxinError):
    """An error in Open311's own format: ``[{"code": …, "description": …}]``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def status_of(state: str) -> str:
    return "closed" if state in CLOSED_STATES else "open"


def service(category: dict) -> dict:
    return {
        "service_code": category["code"],
        "service_name": category["name"],
        "description": f"{category['name']}（物业服务）",
        "metadata": True,
        "type": "realtime",
        "keywords": category["code"],
        "group": "物业服务",
    }


def definition(code: str, estates: list[dict]) -> dict:
    """The attributes a request of this service needs: which estate, which household."""
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": "estate",
                "datatype": "singlevaluelist",
                "required": True,
                "datatype_description": "小区 (estate)",
                "order": 1,
                "description": "报事所在的小区",
                "values": [{"key": e["id"], "name": e["name"]} for e in estates],
            },
            {
                "variable": True,
                "code": "household",
                "datatype": "string",
                "required": True,
                "datatype_description": "楼-单元-室, e.g. 3-2-501",
                "order": 2,
                "description": "报事住户的门牌",
                "values": [],
            },
        ],
    }


def case_body(form: dict, attributes: dict) -> dict:
    """A case submission from an Open311 POST (form fields and ``attribute[...]`` values)."""
    description = (form.get("description") or "").strip()
    if not form.get("service_code"):
        raise Open311Error(400, "service_code is required")
    if not any(form.get(k) for k in ("lat", "address_string", "address_id")) and not attributes.get("estate"):
        raise Open311Error(400, "a location is required: lat/long, address_string or address_id")
    estate = attributes.get("estate") or form.get("address_id")
    if not estate:
        raise Open311Error(400, "attribute[estate] (or address_id) names the estate: see the service definition")
    if not form.get("phone"):
        raise Open311Error(400, "phone is required: the resident is called back on it")
    name = " ".join(p for p in (form.get("last_name"), form.get("first_name")) if p) or "居民"
    title = description[:30] or form.get("address_string", "")[:30] or "Open311"
    return {
        "estate_id": estate,
        "category": form["service_code"],
        "title": title,
        "description": description or title,
        "channel": "app",
        "priority": "normal",
        "reporter": {"name": name[:50], "phone": form["phone"], "household": attributes.get("household", "")},
    }


def request(case: dict, categories: dict[str, str], estates: dict[str, str]) -> dict:
    """One of our cases as an Open311 service request."""
    notes = case.get("history") or []
    return {
        "service_request_id": case["id"],
        "status": status_of(case["status"]),
        "status_notes": (notes[-1].get("note") if notes else None) or None,
        "service_name": categories.get(case["category"], case["category"]),
        "service_code": case["category"],
        "description": case["description"][:4000],
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": case["created_at"],
        "updated_datetime": case.get("updated_at"),
        "expected_datetime": case.get("resolution_due_at"),
        "address": estates.get(case["estate_id"]),
        "address_id": case["estate_id"],
        "zipcode": None,
        "lat": None,
        "long": None,
        "media_url": None,
    }


def attributes_of(form: dict) -> dict:
    """``attribute[estate]=…`` → ``{"estate": …}``."""
    return {key[10:-1]: value for key, value in form.items() if key.startswith("attribute[") and key.endswith("]")}


# -- rendering -----------------------------------------------------------------------------------

XML_ROOTS = {  # list root, item element
    "services": ("services", "service"),
    "requests": ("service_requests", "request"),
    "errors": ("errors", "error"),
}


def render(kind: str, payload: object, fmt: str) -> tuple[str, str]:
    """(body, mimetype) for ``payload`` in ``fmt``; ``kind`` names the XML elements."""
    if fmt == "json":
        return json.dumps(payload, ensure_ascii=False), "application/json"
    if kind == "definition":
        root = to_xml("service_definition", payload)
    else:
        list_tag, item_tag = XML_ROOTS[kind]
        root = ElementTree.Element(list_tag)
        for item in payload:  # type: ignore[attr-defined]
            root.append(to_xml(item_tag, item))
    return '<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(root, encoding="unicode"), "text/xml"


SINGULAR = {"attributes": "attribute", "values": "value"}


def to_xml(tag: str, value: object) -> ElementTree.Element:
    element = ElementTree.Element(tag)
    if isinstance(value, dict):
        for key, inner in value.items():
            element.append(to_xml(key, inner))
    elif isinstance(value, list):
        for inner in value:
            element.append(to_xml(SINGULAR.get(tag, tag.rstrip("s")), inner))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element
