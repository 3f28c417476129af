"""Probes, and the spec's entries for the API's own description (served by
:mod:`services.gateway.routes.api_description`).

``/metrics`` is not here: the gateway serves it on ``GATEWAY_METRICS_PORT`` only
(:class:`services.common.health.HealthServer`), so the public port answers 404 for it.
"""

from __future__ import annotations

from marshmallow import Schema, fields
from werkzeug.wrappers import Request, Response

from services.gateway.apidoc import Route
from services.gateway.http import endpoint, json_response
from services.gateway.plumbing import Plumbing, answer


class OperationRoutes(Plumbing):
    @endpoint("GET", "/healthz")
    def healthz(self, request: Request) -> Response:
        return json_response({"status": "ok"})

    @endpoint("GET", "/livez")
    def livez(self, request: Request) -> Response:
        return answer(self.health.livez())

    @endpoint("GET", "/readyz")
    def readyz(self, request: Request) -> Response:
        return answer(self.health.readyz())


class HealthSchema(Schema):
    status = fields.String()


class ReadinessSchema(Schema):
    status = fields.String()
    checks = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": 'check → "ok" or why it failed'}
    )


ROUTES: tuple[Route, ...] = (
    Route("GET", "/healthz", "Liveness of the gateway", HealthSchema, auth=False, tag="operations"),
    Route(
        "GET",
        "/livez",
        "Liveness: the broker connection is up (503 when not)",
        HealthSchema,
        auth=False,
        tag="operations",
    ),
    Route(
        "GET",
        "/readyz",
        "Readiness: database and broker answer (503 names the failed check)",
        ReadinessSchema,
        auth=False,
        tag="operations",
    ),
    Route("GET", "/openapi.json", "This document", None, auth=False, tag="operations"),
    Route("GET", "/docs", "This document, readable", None, auth=False, content="text/html", tag="operations"),
)
