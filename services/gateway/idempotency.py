"""``Idempotency-Key`` on POST: the first answer is kept and replayed; a retry never acts twice.

The way Stripe and the IETF draft (draft-ietf-httpapi-idempotency-key-header) describe it:
same key + same request → the first response again, with ``Idempotent-Replayed: true``;
same key + a different request → 422; a retry while the first is still running → 409.
The row is claimed *before* the request runs, under a unique index, so two concurrent
duplicates cannot both run. Server errors (5xx) are not kept: the client may retry them.
Answers are kept for ``IDEMPOTENCY_TTL_HOURS`` (default 24); an older key starts afresh.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.gateway.models import IdempotentRequest

MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("Content-Type", "Location")


def digest(*parts: bytes | str) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode() if isinstance(part, str) else part)
        sha.update(b"\x00")
    return sha.hexdigest()


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


class InFlight(Exception):
    """The first request with this key has not answered yet."""


class Mismatch(Exception):
    """The key was used for a different request."""


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


def finish(session: Session, claimed: Claimed, status: int, headers: dict, body: str) -> None:
    """Keep the answer (or free the key after a server error, so that a retry may run)."""
    row = session.get(IdempotentRequest, claimed.row_id)
    if row is None:
        return
    if status >= 500:
        session.delete(row)
    else:
        row.state, row.status, row.body = "done", status, body
        row.headers = {name: headers[name] for name in REPLAYED_HEADERS if name in headers}
    session.commit()
