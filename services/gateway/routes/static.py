"""Static files of the pages (styles): served by the gateway itself, so pages need no inline style
(the Content-Security-Policy, :mod:`services.gateway.headers`, allows styles and scripts from here only)."""

from __future__ import annotations

from pathlib import Path

from werkzeug.wrappers import Request, Response

from services.common.errors import NotFound
from services.gateway.apidoc import Route, path_id
from services.gateway.http import endpoint
from services.gateway.plumbing import Plumbing

STATIC = Path(__file__).resolve().parent.parent / "static"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}


class StaticRoutes(Plumbing):
    @endpoint("GET", "/static/<string:name>")
    def static_file(self, request: Request, name: str) -> Response:
        path = (STATIC / name).resolve()
        if path.parent != STATIC or path.suffix not in TYPES or not path.is_file():
            raise NotFound(f"no static file {name!r}")
        response = Response(path.read_bytes(), content_type=TYPES[path.suffix])
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response


ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "/static/{name}",
        "A style sheet of the pages",
        None,
        params=(path_id("name"),),
        errors=(404,),
        auth=False,
        content="text/css",
        tag="pages",
    ),
)
