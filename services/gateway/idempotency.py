"""``Idempotency-Key`` on POST: the first answer is kept and replayed; a retry never acts twice.

The way Stripe and the IETF draft (draft-ietf-httpapi-idempotency-key-header) describe it:
same key + same request → the first response again, with ``Idempotent-Replayed: true``;
same key + a different request → 422; a retry while the first is still running → 409.
The row is claimed *before* the request runs, under a unique index, so two concurrent
duplicates cannot both run. Server errors (5xx) are not kept: the client may retry them.
Answers are kept for ``IDEMPOTENCY_TTL_HOURS`` (default 24); an older key starts afresh.

Only a caller already authenticated and authorised gets here (the endpoint checks the key
first), so an unknown or revoked key is 401 and writes nothing. The scope is who calls and
where: the company, the key, the resident an app acts for (the person, whichever session),
the method and the path. An Open311 post, whose key is a form field, is scoped the same way.

A secret is never kept. An answer that shows one (an API key, a webhook's ``whsec_`` secret,
a resident's token) is kept with it set to null; its replay says so with
``Idempotent-Withheld: <fields>`` and ``"withheld": [<fields>]`` in the body. Stripe replays
the key it made; we would rather the client revoke that one and ask again than keep a working
credential in clear for a day.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from services.common.errors import LianxinError
from services.gateway.authorization import Caller
from services.gateway.models import IdempotentRequest
from services.gateway.tenants import KEY_PREFIX

MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("Content-Type", "Location")
WITHHELD_HEADER = "Idempotent-Withheld"
SHOWN_ONCE = "lianxin_shown_once"  # the attribute of a response naming its secret fields
# What an API key and a webhook secret start with: withheld wherever they appear, marked or not.
# A key's 12-character ``prefix`` (listed with every key, to recognise it) is not the key: a
# secret carries at least 20 more characters (a key 32, a webhook secret 44).
SECRET_PREFIXES = (KEY_PREFIX, "whsec_")
SECRET_MIN_TAIL = 20


def looks_secret(value: str) -> bool:
    return any(value.startswith(p) and len(value) >= len(p) + SECRET_MIN_TAIL for p in SECRET_PREFIXES)


def digest(*parts: bytes | str) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode() if isinstance(part, str) else part)
        sha.update(b"\x00")
    return sha.hexdigest()


def scope_of(caller: Caller, method: str, path: str) -> str:
    """Who calls and where: company, key, the resident an app acts for, method and path."""
    return digest(caller.tenant, caller.key_id, caller.person or "", method, path)


def shown_once(response: Response, *fields: str) -> Response:
    """Mark the answer's top-level ``fields`` as secrets: the client sees them now, a replay never."""
    setattr(response, SHOWN_ONCE, fields)
    return response


def without_secrets(body: str, fields: tuple[str, ...]) -> tuple[str, list[str]]:
    """The body to keep: ``fields``, and any value that looks like a key or secret, set to null; what was withheld."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body, []
    withheld: list[str] = []

    def scrub(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            kept = {}
            for name, inner in value.items():
                where = f"{path}.{name}" if path else name
                if not path and name in fields and inner is not None:
                    withheld.append(where)
                    kept[name] = None
                else:
                    kept[name] = scrub(inner, where)
            return kept
        if isinstance(value, list):
            return [scrub(inner, f"{path}[{i}]") for i, inner in enumerate(value)]
        if isinstance(value, str) and looks_secret(value):
            withheld.append(path)
            return None
        return value

    payload = scrub(payload, "")
    if not withheld:
        return body, []
    if isinstance(payload, dict):
        payload["withheld"] = withheld
    return json.dumps(payload, ensure_ascii=False), withheld


class BadKey(LianxinError):
    status = 400
    title = "Bad request"

    def __init__(self) -> None:
        super().__init__(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")


class InFlight(LianxinError):
    """The first request with this key has not answered yet."""

    status = 409
    title = "Conflict"
    retry_after = 1

    def __init__(self) -> None:
        super().__init__("a request with this Idempotency-Key is still being processed")


class Mismatch(LianxinError):
    """The key was used for a different request."""

    status = 422
    title = "Validation failed"

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used for a different request")


@dataclass(frozen=True)
class Stored:
    """A kept answer to replay."""

    status: int
    headers: dict
    body: str


@dataclass(frozen=True)
class Claimed:
    """This request holds the key: run it, then :func:`finish` or :func:`release`."""

    row_id: int


def claim(session: Session, scope: str, key: str, fingerprint: str, now: datetime, ttl: timedelta) -> Claimed | Stored:
    """Claim ``key`` for this request, or find what it already answered.

    Commits on its own: the claim must be visible to a concurrent duplicate at once.
    """
    session.execute(delete(IdempotentRequest).where(IdempotentRequest.created_at < now - ttl))
    session.commit()
    row = IdempotentRequest(scope=scope, key=key, fingerprint=fingerprint, state="in_flight", created_at=now)
    session.add(row)
    try:
        session.commit()
        return Claimed(row.id)
    except IntegrityError:
        session.rollback()
    found = session.scalars(
        select(IdempotentRequest).where(IdempotentRequest.scope == scope, IdempotentRequest.key == key)
    ).first()
    if found is None:  # released between our insert and our look: try once more
        return claim(session, scope, key, fingerprint, now, ttl)
    if found.fingerprint != fingerprint:
        raise Mismatch
    if found.state != "done":
        raise InFlight
    return Stored(found.status or 200, dict(found.headers or {}), found.body or "")


def finish(session: Session, claimed: Claimed, response: Response) -> None:
    """Keep the answer without its secrets (or free the key after a server error, so that a retry may run)."""
    row = session.get(IdempotentRequest, claimed.row_id)
    if row is None:
        return
    if response.status_code >= 500:
        session.delete(row)
    else:
        body, withheld = without_secrets(response.get_data(True), getattr(response, SHOWN_ONCE, ()))
        row.state, row.status, row.body = "done", response.status_code, body
        row.headers = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
        if withheld:
            row.headers[WITHHELD_HEADER] = ", ".join(withheld)
    session.commit()
