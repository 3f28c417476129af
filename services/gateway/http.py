"""The HTTP edge: JSON in and out, RFC 9457 problems for every error, request ids.

Every route is an :func:`endpoint`: it reads the body within the size limit, turns any
error (ours, a service's over RPC, werkzeug's) into ``application/problem+json``,
echoes ``X-Request-Id``, which also travels in the RPC context into the events caused, and
:class:`GatewayServer` adds the security headers (:mod:`services.gateway.headers`) to
every answer, the router's own 404 and 405 included. A route of the authorization table is
authenticated before anything else (then, for a POST, its ``Idempotency-Key``); a route may
render its errors its own way (Open311's ``problems``).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from eventlet.event import Event
from eventlet.timeout import Timeout
from nameko.exceptions import RemoteError, UnknownService
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Request, Response

from services.common import metrics
from services.common.config import DEFAULTS, configured
from services.common.database import database_of
from services.common.db import utcnow
from services.common.errors import LianxinError, ValidationFailed
from services.common.tracing import new_traceparent, trace_id_of, valid_traceparent
from services.gateway import authentication, authorization, headers, idempotency, workbench_actions
from services.gateway.authorization import Caller
from services.gateway.authorization import Unauthorized as Unauthorized  # the routes raise it from here too

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"


class ServiceUnavailable(LianxinError):
    status = 503
    title = "Service unavailable"


class BadRequest(LianxinError):
    status = 400
    title = "Bad request"


class UnsupportedMediaType(LianxinError):
    status = 415
    title = "Unsupported media type"


class Answered(LianxinError):
    """Stop a page route with this ready response (a redirect to sign in, a 403 page).

    Raised by the people helpers (:mod:`services.gateway.people`) so a page route needs one
    line, not an ``if``; :meth:`Endpoint.response_from_exception` returns ``response`` as is.
    """

    status = 303
    title = "See other"

    def __init__(self, response: Response) -> None:
        super().__init__(f"answered {response.status_code}")
        self.response = response


def json_response(payload: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, default=str),
        status=status,
        headers=headers,
        mimetype="application/json",
    )


def problem(status: int, title: str, detail: str = "", errors: dict | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    headers = {"WWW-Authenticate": 'Bearer realm="lianxin"'} if status == 401 else None
    response = json_response(body, status, headers)
    response.mimetype = PROBLEM
    return response


def problem_from(exc: BaseException) -> Response:
    if isinstance(exc, ValidationFailed):
        return problem(exc.status, exc.title, exc.detail, exc.errors)
    if isinstance(exc, LianxinError):
        response = problem(exc.status, exc.title, exc.detail)
        if getattr(exc, "retry_after", None):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, HTTPException):
        return problem(exc.code or 500, exc.name, exc.description or "")
    if isinstance(exc, Timeout):
        return problem(503, "Service unavailable", "a service did not answer in time")
    if isinstance(exc, UnknownService):
        return problem(503, "Service unavailable", "a service is not running yet")
    if isinstance(exc, RemoteError):
        log.error("remote error: %s", exc)
        if exc.exc_type in ("UnknownService", "MethodNotFound"):
            return problem(503, "Service unavailable", "a service is not running")
        return problem(500, "Internal error", "a service failed")
    log.exception("unhandled error at the edge", exc_info=exc)
    return problem(500, "Internal error")


MAX_JSON_DEPTH = 32  # no body of the API nests deeper than 4; Python's parser recurses and fails near 1,000


def json_depth(raw: bytes) -> int:
    """How deep ``raw``'s arrays and objects nest, counted without parsing (brackets in strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def read_json(request: Request) -> Any:
    """The JSON body, or a 415/400/413 problem; reading honours ``max_content_length``."""
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType("Content-Type must be application/json")
    raw = request.get_data(cache=True)
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise BadRequest(f"body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"body is not valid JSON: {exc}") from None
    try:
        # JSON may escape a lone surrogate ("\\ud800"): valid JSON, but no text a database can store.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("body holds an unpaired UTF-16 surrogate: not valid Unicode text") from None
    return body


def loggable_path(request: Request) -> str:
    """The path for the access log, with every ``…token`` path value (a survey link) redacted."""
    path = request.path
    for name, value in (getattr(request, "path_values", None) or {}).items():
        if name.endswith("token") and value:
            path = path.replace(str(value), "***")
    return path


def behind_proxies(app: Any, hops: int) -> Any:
    """The WSGI app as seen through ``hops`` trusted reverse proxies (an ingress is one).

    Each proxy appends the address it received from to ``X-Forwarded-For``; the client's own
    address is the ``hops``-th from the right. Without proxies the header is ignored, since a
    client can write anything there. The client address matters for survey bursts: behind an
    ingress every answer would otherwise come from the ingress's address.
    """
    return ProxyFix(app, x_for=hops, x_proto=hops) if hops > 0 else app


class GatewayServer(WebServer):
    """nameko's web server, through :func:`behind_proxies` (``TRUSTED_PROXY_HOPS``), every answer
    with the security headers (:func:`services.gateway.headers.on_every_answer`)."""

    def get_wsgi_app(self) -> Any:
        hops = int(self.container.config.get("TRUSTED_PROXY_HOPS") or DEFAULTS["TRUSTED_PROXY_HOPS"])
        return headers.on_every_answer(behind_proxies(super().get_wsgi_app(), hops))


class ContentTooLarge(LianxinError):
    status = 413
    title = "Content too large"


Problems = Callable[[Request, BaseException], Response]


class Endpoint(HttpRequestHandler):
    """nameko's HTTP entrypoint with our error format, body limit, request ids, authentication first.

    A route of the authorization table is authenticated and authorised here, before anything
    else is read: only then is its ``Idempotency-Key`` looked at (:meth:`_once`).
    """

    server = GatewayServer()

    def __init__(
        self,
        method: str,
        url: str,
        body_limit: str = "MAX_BODY_BYTES",
        problems: Problems | None = None,
        **kwargs: Any,
    ) -> None:
        # 4xx answers (our typed errors) are logged by nameko as warnings, not as errors.
        kwargs.setdefault("expected_exceptions", (LianxinError,))
        super().__init__(method, url, **kwargs)
        self.body_limit = body_limit  # the setting that bounds this route's body (bulk imports have their own)
        self.problems = problems or (lambda request, exc: problem_from(exc))  # Open311 answers errors its own way

    def handle_request(self, request: Request) -> Response:
        started = time.monotonic()
        response = self._answer(request)
        # The route is the rule (``/api/v1/cases/<string:case_id>``), never the raw path: one
        # series per route, not one per case.
        metrics.HTTP_REQUESTS.labels(request.method, self.url, str(response.status_code)).inc()
        metrics.HTTP_SECONDS.labels(self.url).observe(time.monotonic() - started)
        return response

    def _answer(self, request: Request) -> Response:
        request_id = (request.headers.get("X-Request-Id") or str(uuid.uuid4()))[:128]
        # Continue the caller's trace, or start one: every event this request causes carries it.
        traceparent = valid_traceparent(request.headers.get("traceparent")) or new_traceparent()
        request.environ["lianxin.traceparent"] = traceparent
        request.environ["lianxin.route"] = (self.method, self.url)  # what the authorization table is keyed by
        request.max_content_length = int(self.container.config.get(self.body_limit) or DEFAULTS[self.body_limit])
        try:
            if request.content_length is not None and request.content_length > request.max_content_length:
                raise ContentTooLarge(f"body over {request.max_content_length} bytes")
            response = self._once(request, request_id, self._authenticate(request))
        except Exception as exc:  # who calls, or the idempotency store: still a problem, never a bare 500
            response = self.problems(request, exc)
        if workbench_actions.is_change(request, self.url, response.status_code):
            self._record_change(request, response.status_code)
        response.headers["X-Request-Id"] = request_id
        response.headers["traceparent"] = traceparent
        log.info(
            "%s %s → %d",
            request.method,
            loggable_path(request),
            response.status_code,
            extra={"trace_id": trace_id_of(traceparent), "request_id": request_id},
        )
        return response

    def _record_change(self, request: Request, status: int) -> None:
        """Who changed what at the workbench (:mod:`services.gateway.workbench_actions`); after the
        change, so a record that cannot be written is logged and never undoes it."""
        try:
            with database_of(self.container).open().transaction() as session:
                workbench_actions.record(session, request, self.url, status, utcnow())
        except Exception:
            log.exception("the workbench change %s %s was not recorded", request.method, loggable_path(request))

    def _authenticate(self, request: Request) -> Caller | None:
        """The caller of a route of the authorization table (401/403/429 otherwise); None for the others."""
        if not authorization.needs_key(self.method, self.url):
            return None  # public routes and pages (whose people sign in with a cookie) check for themselves
        request.shallow = False  # Open311 sends its key in the form
        store = database_of(self.container).open()
        caller = authentication.authenticate(
            request, store, authentication.limiter_of(self.container), self.method, self.url
        )
        request.environ[authentication.ENVIRON] = caller
        return caller

    def _once(self, request: Request, request_id: str, caller: Caller | None) -> Response:
        """A caller's POST with ``Idempotency-Key`` runs at most once; its answer is replayed to retries.

        Only an authenticated caller's: elsewhere (pages, survey links) the header means nothing,
        and nothing is written for it.
        """
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or key is None or caller is None:
            return self._run(request, request_id)
        if not key.strip() or len(key) > idempotency.MAX_KEY_LENGTH:
            raise idempotency.BadKey()
        request.shallow = False
        scope = idempotency.scope_of(caller, request.method, request.path)
        fingerprint = idempotency.digest(request.method, request.path, request.query_string, request.get_data())
        ttl = timedelta(hours=float(configured(self.container.config, "IDEMPOTENCY_TTL_HOURS")))
        session = database_of(self.container).open().sessions()
        try:
            found = idempotency.claim(session, scope, key, fingerprint, utcnow(), ttl)
            if isinstance(found, idempotency.Stored):
                return Response(
                    found.body, status=found.status, headers=found.headers | {"Idempotent-Replayed": "true"}
                )
            response = self._run(request, request_id)
            idempotency.finish(session, found, response)
            return response
        finally:
            session.close()

    def _run(self, request: Request, request_id: str) -> Response:
        request.shallow = False
        try:
            context = self.server.context_data_from_headers(request)
            context["requestid"] = request_id
            context["traceparent"] = request.environ["lianxin.traceparent"]
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            done = Event()
            self.container.spawn_worker(
                self, args, kwargs, context_data=context, handle_result=partial(self.handle_result, done)
            )
            return self.response_from_result(done.wait())
        except Exception as exc:
            return self.response_from_exception(exc)

    def response_from_exception(self, exc: BaseException) -> Response:
        if isinstance(exc, Answered):
            return exc.response
        return problem_from(exc)


endpoint = Endpoint.decorator
