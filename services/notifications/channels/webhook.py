"""Outgoing webhooks signed per the Standard Webhooks specification
(https://www.standardwebhooks.com/), so receivers can use any compliant library.

Headers: `webhook-id` (stable across retries, for receiver de-duplication),
`webhook-timestamp` (unix seconds, for replay protection) and
`webhook-signature` ("v1,<base64 HMAC-SHA256 of id.timestamp.body>", possibly
several separated by spaces during secret rotation).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from services.common.fields import utc_text
from services.notifications import webhook_targets
from services.notifications.webhook_targets import Policy, Target

from . import _http, pinned
from .base import Failed, RetryLater, SendResult, Sent

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"


class WebhookVerificationError(Exception):
    """The request is not a valid, fresh, correctly signed webhook."""


def generate_secret() -> str:
    """A new endpoint secret: "whsec_" + base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def _key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("webhook secret must be 'whsec_' + base64") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value for one message."""
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = 300,
    now: float | None = None,
) -> None:
    """Check a received webhook; raise `WebhookVerificationError` if it is not genuine."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id = lowered.get("webhook-id")
    ts_text = lowered.get("webhook-timestamp")
    sig_header = lowered.get("webhook-signature")
    if not msg_id or not ts_text or not sig_header:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or signature")
    try:
        timestamp = int(ts_text)
    except ValueError as exc:
        raise WebhookVerificationError("invalid webhook-timestamp") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError("webhook-timestamp outside tolerance")
    expected = sign(secret, msg_id, timestamp, body).partition(",")[2]
    for candidate in sig_header.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return
    raise WebhookVerificationError("no matching signature")


@dataclass(frozen=True)
class Attempt:
    """One attempt's result, and the receiver's HTTP status when it answered (for the tenant's list)."""

    result: SendResult
    status: int | None = None


# (target, body, headers, timeout) → the response; the default connects to the checked address.
Transport = Callable[[Target, bytes, Mapping[str, str], float], requests.Response]


def envelope_time(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z``; stored times are naive UTC (see services.common.db.utcnow)."""
    return utc_text(moment, "auto") or ""


class WebhookChannel:
    """Delivers one webhook attempt; retries are the caller's business.

    The URL is checked again before every attempt (``webhook_targets``) and the request goes to
    the checked address. Tenants see only generic outcomes ("connection failed", "timed out",
    "HTTP 500", "address not allowed"): what a socket said is for the log, never for the tenant,
    or the webhook becomes a port scanner that reads banners.
    """

    name = "webhook"

    def __init__(
        self,
        timeout: float = 10,
        *,
        clock: Callable[[], float] = time.time,
        targets: Policy | None = None,
        transport: Transport | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self._timeout = timeout
        self._clock = clock
        self._targets = targets or Policy()
        if transport is None and session is not None:  # tests: a requests-like fake, not pinned
            transport = _via(session)
        self._transport = transport or pinned.post

    def deliver(
        self,
        url: str,
        secret: str | Sequence[str],
        msg_id: str,
        event_type: str,
        payload: dict[str, Any],
        occurred_at: datetime | None = None,
    ) -> SendResult:
        """POST `{"type", "timestamp", "data"}` signed with `secret` to `url`."""
        return self.attempt(url, secret, msg_id, event_type, payload, occurred_at).result

    def attempt(
        self,
        url: str,
        secret: str | Sequence[str],
        msg_id: str,
        event_type: str,
        payload: dict[str, Any],
        occurred_at: datetime | None = None,
    ) -> Attempt:
        """One signed POST (one signature per secret: the old one still verifies while rotating)."""
        now = self._clock()
        when = occurred_at or datetime.fromtimestamp(now, UTC)
        envelope = {"type": event_type, "timestamp": envelope_time(when), "data": payload}
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = int(now)
        secrets_ = [secret] if isinstance(secret, str) else list(secret)
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets_),
        }
        try:
            target = webhook_targets.resolve(url, self._targets)
        except webhook_targets.Refused as exc:
            log.warning("webhook %s refused before connecting: %s", msg_id, exc)
            return Attempt(Failed(webhook_targets.NOT_ALLOWED))
        except (OSError, ValueError) as exc:
            log.warning("webhook %s: host did not resolve: %r", msg_id, exc)
            return Attempt(RetryLater(CONNECTION_FAILED))
        try:
            response = self._transport(target, body, headers, self._timeout)
        except (requests.RequestException, ValueError) as exc:  # ValueError: what http.client refuses to send
            log.warning("webhook %s to %s (%s) failed: %r", msg_id, target.host, target.address, exc)
            return Attempt(RetryLater(TIMED_OUT if isinstance(exc, requests.Timeout) else CONNECTION_FAILED))
        return Attempt(status_result(response, msg_id), response.status_code)


CONNECTION_FAILED = "connection failed"
TIMED_OUT = "timed out"


def status_result(response: requests.Response, msg_id: str) -> SendResult:
    """2xx sent; 429 and 5xx later (Retry-After honoured); the rest failed. Only the code is kept."""
    status = response.status_code
    if 200 <= status < 300:
        return Sent(msg_id)
    detail = f"HTTP {status}"
    if status == 429 or status >= 500:
        return RetryLater(detail, _http.retry_after_seconds(response.headers.get("Retry-After")))
    return Failed(detail)


def _via(session: Any) -> Transport:
    def post(target: Target, body: bytes, headers: Mapping[str, str], timeout: float) -> requests.Response:
        return session.post(target.url, data=body, headers=dict(headers), timeout=timeout, allow_redirects=False)

    return post
