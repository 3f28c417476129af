"""Who calls a key route: the API key, rate limited and authorised, and for an app its resident.

The endpoint (:class:`services.gateway.http.Endpoint`) runs :func:`authenticate` first for every
route of the authorization table, before the ``Idempotency-Key`` is looked at and before the body
is read or validated. So an unknown or revoked key is 401 whatever else the request says (a
fuzzer found 422 before 401, and a revoked key replaying the answer that created another key),
and nothing is written for a caller who is not known. The route then reads the same
:class:`~services.gateway.authorization.Caller` (``Plumbing._caller``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from werkzeug.wrappers import Request

from services.common.db import Store, utcnow
from services.gateway import authorization, sessions, tenants
from services.gateway.authorization import Caller, Unauthorized
from services.gateway.ratelimit import Limiter, RateLimits

RESIDENT_TOKEN = "Lianxin-Resident-Token"
ENVIRON = "lianxin.caller"  # where the endpoint leaves the caller for the route (request.environ)


def limiter_of(container: Any) -> Limiter:
    """The container's rate limiter (the :class:`RateLimits` provider every gateway service declares)."""
    for dependency in container.dependencies:
        if isinstance(dependency, RateLimits):
            return dependency.limiter
    raise LookupError(f"service {container.service_name} declares no RateLimits dependency")


def presented_key(request: Request) -> str:
    """The bearer key, or Open311's ``api_key`` parameter on an Open311 route; 401 when there is none."""
    header = request.headers.get("Authorization", "")
    if not header and request.path.startswith("/open311/"):
        # Open311 clients send the key as a parameter. The body is cached before the form is
        # parsed from it: parsing alone consumes it, and the Idempotency-Key fingerprint reads it.
        request.get_data(cache=True)
        if request.values.get("api_key"):
            header = "Bearer " + request.values["api_key"]
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("send Authorization: Bearer <api key>")
    return key.strip()


def key_caller(request: Request, store: Store, limiter: Limiter, method: str, rule: str) -> Caller:
    """The key's caller, without any resident yet: 401 unknown or revoked, 429 over its limit, 403 by role."""
    key = presented_key(request)
    with store.read() as session:
        found = tenants.authenticate(session, key)
    if found is None:
        raise Unauthorized("unknown or revoked API key")
    tenant, api_key = found
    limiter.hit(api_key.id, api_key.rate_limit)
    authorization.check(api_key.role, method, rule)
    return Caller(
        tenant=tenant.id,
        actor=f"{tenant.name}/{api_key.prefix}",
        role=api_key.role,
        key_id=api_key.id,
        community=tenant.community,
    )


def with_resident(request: Request, store: Store, caller: Caller) -> Caller:
    """An app's caller with the resident of ``Lianxin-Resident-Token``: a live session obtained with this key.

    Read from the database on every request, so a sign-out holds on every gateway instance at once.
    """
    token = request.headers.get(RESIDENT_TOKEN, "").strip()
    if not token:
        raise Unauthorized(f"an app acts for a resident only with {RESIDENT_TOKEN} (POST /api/v1/sign-in)")
    with store.transaction() as session:
        resident = sessions.resume(session, token, utcnow(), app_key_id=caller.key_id)
    if resident is None:
        raise Unauthorized(f"{RESIDENT_TOKEN} is unknown, signed out, expired or another app's: sign in again")
    return replace(caller, resident_phone=resident.phone, person_session=resident.session_id, person=resident.person_id)


def authenticate(request: Request, store: Store, limiter: Limiter, method: str, rule: str) -> Caller:
    """Who calls ``method rule``: the key's caller, and for an app the resident it acts for.

    A ``resident_app`` key acts for a resident only with that resident's own session token; no
    token, or another app's, an ended or an expired one, is 401 on every route but the sign-in
    ones (:data:`~services.gateway.authorization.WITHOUT_RESIDENT`).
    """
    caller = key_caller(request, store, limiter, method, rule)
    if caller.role == "resident_app" and (method, authorization.spec_path(rule)) not in authorization.WITHOUT_RESIDENT:
        caller = with_resident(request, store, caller)
    return caller
