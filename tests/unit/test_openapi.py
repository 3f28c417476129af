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
    assert sorted(responses) == ["200", "400", "401", "404", "409", "413", "415", "422", "429", "500", "503"]
    assert responses["409"]["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
