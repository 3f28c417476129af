"""The API's own description: ``/openapi.json`` and ``/docs``.

Apart from the other routes because the spec is built from every route module: a route module
that served it would import the spec, which imports it back (an import cycle). Their entries in
the spec are declared with the probes in :mod:`services.gateway.routes.operations`.
"""

from __future__ import annotations

import json

from werkzeug.wrappers import Request, Response

from services.gateway import pages
from services.gateway.http import endpoint, json_response
from services.gateway.openapi import spec
from services.gateway.plumbing import Plumbing, html


class ApiDescriptionRoutes(Plumbing):
    @endpoint("GET", "/openapi.json")
    def openapi_json(self, request: Request) -> Response:
        return json_response(spec())

    @endpoint("GET", "/docs")
    def docs(self, request: Request) -> Response:
        return html(pages.docs_page(json.loads(json.dumps(spec()))))
