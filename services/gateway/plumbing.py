"""What every gateway route uses: the dependencies, the caller (authenticated by the endpoint) and bounded RPC."""

from __future__ import annotations

import eventlet
from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Request, Response

from services.common.config import DEFAULTS, configured
from services.common.database import Database
from services.common.db import utcnow
from services.common.errors import NotFound
from services.common.health import Answer, HealthServer
from services.common.storage import PhotoStore
from services.common.tracing import LogContext
from services.gateway import authentication, sessions, uploads
from services.gateway.authorization import Caller
from services.gateway.http import ServiceUnavailable
from services.gateway.models import Base, DeadLetter, Inbox, Outbox, Tenant
from services.gateway.ratelimit import RateLimits

RESIDENT_TOKEN = authentication.RESIDENT_TOKEN


class Plumbing:
    """Base of every route mixin; :class:`services.gateway.service.GatewayService` combines them."""

    log_context = LogContext()

    db = Database(Base, (Outbox, Inbox, DeadLetter))
    health = HealthServer("GATEWAY_METRICS_PORT")  # /metrics there only, off the public port
    config = Config()
    requests = RpcProxy("requests")
    volunteers = RpcProxy("volunteers")
    surveys = RpcProxy("surveys")
    notifications = RpcProxy("notifications")
    rate_limits = RateLimits()
    photo_store = PhotoStore()
    caller: Caller | None = None

    def _tenant(self, request: Request) -> tuple[str, str]:
        """(tenant id, actor) for the bearer key, or 401; 403 when the key's role may not call this route."""
        caller = self._caller(request)
        return caller.tenant, caller.actor

    def _caller(self, request: Request) -> Caller:
        """Who calls, authenticated, rate limited and authorised (see :mod:`services.gateway.authentication`).

        The endpoint has done it before the route runs (every route of the authorization table)
        and left the caller in the request; a route outside the table does it here, and is refused.
        """
        if getattr(self, "caller", None) is not None:
            return self.caller
        caller = request.environ.get(authentication.ENVIRON)
        if caller is None:
            method, rule = request.environ.get("lianxin.route", (request.method, request.path))
            caller = authentication.authenticate(request, self.db.store, self.rate_limits, method, rule)
        self.caller = caller
        return caller

    def _key_caller(self, request: Request) -> Caller:
        """The bearer key's caller, without any resident (the apps' sign-in routes, where the endpoint stops there)."""
        return self._caller(request)

    def _secure_cookies(self) -> bool:
        """Cookies marked Secure when residents reach us over https (``PUBLIC_BASE_URL``)."""
        return str(self.config.get("PUBLIC_BASE_URL") or "").startswith("https")

    def _person(self, request: Request) -> sessions.SignedIn | None:
        """The person signed in through the ``lx_session`` cookie (the resident and volunteer pages), or None."""
        token = request.cookies.get(sessions.COOKIE, "")
        if not token:
            return None
        with self.db.transaction() as session:
            return sessions.resume(session, token, utcnow())

    def _for_own_resident(self, payload: object) -> object:
        """A resident app submits for its own resident only: the reporter's phone is forced to theirs."""
        if self.caller is None or not self.caller.resident_phone or not isinstance(payload, dict):
            return payload
        reporter = payload.get("reporter")
        if not isinstance(reporter, dict):
            return payload  # the owning service reports the shape error
        return payload | {"reporter": reporter | {"phone": self.caller.resident_phone}}

    def _call(self, service: str, method: str, *args: object) -> object:
        """Call a service over RPC; 503 when it does not answer within RPC_TIMEOUT.

        Only the wait for the reply is timed out: interrupting kombu while it (re)connects
        for the publish can leave a pooled connection half-open (seen after a broker
        restart), so the publish is bounded by the connection timeouts instead.
        """
        timeout = float(configured(self.config, "RPC_TIMEOUT"))
        reply = getattr(getattr(self, service), method).call_async(*args)
        with eventlet.Timeout(timeout, ServiceUnavailable(f"{service} did not answer in {timeout:g}s")):
            return reply.result()

    def _call_together(self, *calls: tuple) -> list[object | Exception]:
        """Several RPCs sent at once, their answers (or the error each raised) in the order asked.

        A page that needs several independent answers waits for the slowest one, not for the sum
        of them all (the workbench's queue makes four). Each answer is bounded by RPC_TIMEOUT from
        the moment all were sent; an answer that does not come in time is ``ServiceUnavailable``.
        """
        timeout = float(configured(self.config, "RPC_TIMEOUT"))
        replies = [getattr(getattr(self, service), method).call_async(*args) for service, method, *args in calls]
        answers: list[object | Exception] = []
        with eventlet.Timeout(timeout, False):
            for reply in replies:
                try:
                    answers.append(reply.result())
                except Exception as exc:  # noqa: BLE001 - handed to the caller, who raises what it must
                    answers.append(exc)
        for service, *_ in calls[len(answers) :]:
            answers.append(ServiceUnavailable(f"{service} did not answer in {timeout:g}s"))
        return answers

    def _community_tenants(self, tenant_id: str) -> list[str]:
        """The ids of every tenant in ``tenant_id``'s community (just itself when it has none)."""
        with self.db.read() as session:
            community = session.scalar(select(Tenant.community).where(Tenant.id == tenant_id))
            if community is None:
                return [tenant_id]
            return sorted(session.scalars(select(Tenant.id).where(Tenant.community == community)))

    def _case(self, tenant: str, case_id: str) -> dict:
        """The case, or 404 — also when a resident app asks for another resident's case."""
        case = self._call("requests", "get_case", tenant, case_id)
        caller = getattr(self, "caller", None)  # nameko makes a service instance per worker
        if caller is not None and caller.resident_phone and case["reporter"]["phone"] != caller.resident_phone:
            raise NotFound(f"case {case_id} not found")
        return case

    # --- photos: any route that takes them (services/gateway/uploads.py) ------------------

    def store_photos(self, tenant: str, files: list[FileStorage]) -> list[dict]:
        """Clean and store 1–3 uploaded photos (422 and nothing stored if any is unfit); their records.

        Pass the records on with :meth:`record_photos`, e.g.
        ``self.record_photos(records, "submit_case", tenant, payload, actor, records)``.
        """
        max_bytes = int(self.config.get("MAX_PHOTO_BYTES") or DEFAULTS["MAX_PHOTO_BYTES"])
        return uploads.store_photos(self.photo_store, tenant, files, max_bytes)

    def record_photos(self, records: list[dict], method: str, *args: object) -> object:
        """``requests.<method>(*args)`` that keeps the records; the stored bytes are removed if it refuses.

        Not after a timeout (503): the service may still commit, and a photo's bytes must never
        go missing under a kept record; an orphaned file is the lesser harm.
        """
        try:
            return self._call("requests", method, *args)
        except ServiceUnavailable:
            raise
        except Exception:
            uploads.discard_photos(self.photo_store, records)
            raise

    def discard_photos(self, records: list[dict]) -> None:
        uploads.discard_photos(self.photo_store, records)


def html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/html")


def answer(probe: Answer) -> Response:
    return Response(probe.body, status=probe.status, content_type=probe.content_type)
