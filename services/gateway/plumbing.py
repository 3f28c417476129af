"""What every gateway route uses: the dependencies, authentication and bounded RPC calls."""

from __future__ import annotations

import eventlet
from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy
from werkzeug.wrappers import Request, Response

from services.common.database import Database
from services.common.health import Answer, Health
from services.common.tracing import LogContext
from services.gateway import tenants
from services.gateway.http import ServiceUnavailable, Unauthorized
from services.gateway.models import Base, DeadLetter, Inbox, Outbox
from services.gateway.ratelimit import RateLimits


class Plumbing:
    """Base of every route mixin; :class:`services.gateway.service.GatewayService` combines them."""

    log_context = LogContext()

    db = Database(Base, (Outbox, Inbox, DeadLetter))
    health = Health()
    config = Config()
    requests = RpcProxy("requests")
    volunteers = RpcProxy("volunteers")
    surveys = RpcProxy("surveys")
    notifications = RpcProxy("notifications")
    rate_limits = RateLimits()

    def _tenant(self, request: Request) -> tuple[str, str]:
        """(tenant id, actor) for the bearer key, or 401."""
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise Unauthorized("send Authorization: Bearer <api key>")
        with self.db.read() as session:
            found = tenants.authenticate(session, key.strip())
        if found is None:
            raise Unauthorized("unknown or revoked API key")
        tenant, api_key = found
        self.rate_limits.hit(api_key.id, api_key.rate_limit)
        return tenant.id, f"{tenant.name}/{api_key.prefix}"

    def _call(self, service: str, method: str, *args: object) -> object:
        """Call a service over RPC; 503 when it does not answer within RPC_TIMEOUT.

        Only the wait for the reply is timed out: interrupting kombu while it (re)connects
        for the publish can leave a pooled connection half-open (seen after a broker
        restart), so the publish is bounded by the connection timeouts instead.
        """
        timeout = float(self.config.get("RPC_TIMEOUT", 10))
        reply = getattr(getattr(self, service), method).call_async(*args)
        with eventlet.Timeout(timeout, ServiceUnavailable(f"{service} did not answer in {timeout:g}s")):
            return reply.result()

    def _case(self, tenant: str, case_id: str) -> dict:
        return self._call("requests", "get_case", tenant, case_id)


def html(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/html")


def answer(probe: Answer) -> Response:
    return Response(probe.body, status=probe.status, content_type=probe.content_type)
