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
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from . import _http
from .base import Failed, SendResult, Sent

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


class WebhookChannel:
    """Delivers one webhook attempt; retries are the caller's business."""

    name = "webhook"

    def __init__(
        self,
        timeout: float = 10,
        *,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
    ) -> None:
        self._timeout = timeout
        self._clock = clock
        self._http = session or requests.Session()

    def deliver(
        self,
        url: str,
        secret: str,
        msg_id: str,
        event_type: str,
        payload: dict[str, Any],
        occurred_at: datetime | None = None,
    ) -> SendResult:
        """POST `{"type", "timestamp", "data"}` signed with `secret` to `url`."""
        now = self._clock()
        when = occurred_at or datetime.fromtimestamp(now, UTC)
        envelope = {
            "type": event_type,
            "timestamp": when.isoformat().replace("+00:00", "Z"),
            "data": payload,
        }
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = int(now)
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, msg_id, timestamp, body),
        }
        try:
            response = self._http.post(url, data=body, headers=headers, timeout=self._timeout, allow_redirects=False)
        except requests.RequestException as exc:
            return _http.transport_error(exc)
        status = response.status_code
        if 200 <= status < 300:
            return Sent(msg_id)
        if status == 410:
            return Failed("gone")
        if 300 <= status < 400:
            return Failed(f"webhook: HTTP {status} redirect not followed")
        result = _http.status_result(response, "webhook")
        assert result is not None
        return result
