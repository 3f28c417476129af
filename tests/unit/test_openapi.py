"""/openapi.json is valid OpenAPI 3.1 and documents exactly the gateway's routes."""

import re

import pytest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from openapi_spec_validator import validate

from services.gateway.openapi import spec
from services.gateway.service import GatewayService

pytestmark = pytest.mark.unit


def served_routes():
    routes = set()
    for attr in dir(GatewayService):
        for entrypoint in getattr(getattr(GatewayService, attr), ENTRYPOINT_EXTENSIONS_ATTR, ()):
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + m.group(1) + "}", entrypoint.url)
            routes.add((entrypoint.method, path))
    return routes


def test_the_spec_validates():
    validate(spec())


def test_every_served_route_is_documented_and_nothing_else():
    documented = {(method.upper(), path) for path, ops in spec()["paths"].items() for method in ops}
    assert documented == served_routes()


def test_request_bodies_come_from_the_service_schemas():
    body = spec()["paths"]["/api/v1/cases"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CaseCreate"}
    case_create = spec()["components"]["schemas"]["CaseCreate"]
    assert case_create["required"] == ["category", "channel", "description", "estate_id", "reporter", "title"]
    # Categories are per tenant now (GET /api/v1/case-categories): a code, the defaults named.
    category = case_create["properties"]["category"]
    assert category["pattern"] == "^[a-z][a-z0-9_]{1,31}$"
    for code in ("repair", "complaint", "suggestion", "consultation", "emergency"):
        assert code in category["description"]


def test_errors_are_documented_as_problems():
    responses = spec()["paths"]["/api/v1/cases/{case_id}/transitions"]["post"]["responses"]
    assert sorted(responses) == ["200", "400", "401", "403", "404", "409", "413", "415", "422", "429", "500", "503"]
    assert responses["409"]["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_403_is_documented_where_the_role_table_refuses_a_role():
    """A company-only route refuses the other roles with 403; a route open to every role never does."""
    paths = spec()["paths"]
    assert "403" in paths["/api/v1/cases/{case_id}/transitions"]["post"]["responses"]
    assert "403" not in paths["/api/v1/me"]["get"]["responses"]


def test_no_route_mixin_hides_another_s_helper():
    """The gateway is one class of many mixins: two helpers of one name would silently become one
    (the workbench's ``_case_page`` once replaced the resident pages' and broke them)."""
    from services.gateway.plumbing import Plumbing

    owners: dict[str, list[str]] = {}
    for mixin in GatewayService.__mro__[1:]:
        if issubclass(mixin, Plumbing) and mixin is not Plumbing:
            for name in vars(mixin):
                if callable(vars(mixin)[name]) and not name.startswith("__"):
                    owners.setdefault(name, []).append(mixin.__name__)
    clashes = {name: found for name, found in owners.items() if len(found) > 1}
    assert clashes == {}


def test_a_case_documents_the_actions_allowed_now_with_what_each_needs_and_its_running_clock():
    schemas = spec()["components"]["schemas"]
    case = schemas["Case"]["properties"]
    assert case["allowed_actions_detail"]["items"] == {"$ref": "#/components/schemas/AllowedAction"}
    assert sorted(schemas["AllowedAction"]["properties"]) == ["action", "needs_assignee", "needs_note"]
    assert {"sla_stage", "sla_due_at", "allowed_actions"} <= set(case)
    assert schemas["Transition"]["properties"]["if_updated_at"]["format"] == "date-time"


def test_the_workbench_pages_are_documented_as_html_with_the_session_cookie():
    paths = spec()["paths"]
    page = paths["/workbench/cases/{case_id}/transitions"]["post"]
    assert page["tags"] == ["workbench"] and "409" in page["responses"] and "403" in page["responses"]
    assert {"case_id", "lx_session"} <= {p["name"] for p in page["parameters"]}
    assert "security" not in page or page["security"] == []
