"""Security headers of every gateway response, set once, around the whole WSGI app
(:class:`services.gateway.http.GatewayServer`): the routes' answers, their errors and the
router's own 404 and 405 alike.

The pages are server-rendered and need no inline code at all, so the policy can be strict:
styles and any script come only from ``/static`` (served by the gateway itself), images from
here (and ``data:`` URIs), no plugins, no ``<base>``, forms post only to us, and no site may
frame us. A page template that puts a ``style="…"`` attribute, a ``<style>`` block or an inline
``<script>`` in a page breaks under this policy: put it in a file under
``services/gateway/static/`` and link it. JSON and files carry the same headers; they cost
nothing there and nothing has to decide which response is "a page".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "X-Content-Type-Options": "nosniff",
    # A survey link carries its token in the path (/s/<token>): with any other policy a link
    # followed from that page, or a resource it loads, could send the token to another site in
    # the Referer. No page of ours needs the Referer.
    "Referrer-Policy": "no-referrer",
}


def with_security_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """``headers`` and every security header it lacks (a route's own value, if it set one, stays)."""
    present = {name.lower() for name, _ in headers}
    return headers + [(name, value) for name, value in SECURITY_HEADERS.items() if name.lower() not in present]


def on_every_answer(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """The WSGI ``app`` whose every answer carries :data:`SECURITY_HEADERS`."""

    def secured(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, with_security_headers(list(headers)), exc_info)

        return app(environ, start)

    return secured
