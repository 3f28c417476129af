"""HTTP plumbing shared by the HTTP-based adapters, so every adapter maps
network trouble and status codes to results the same way."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from .base import Failed, RetryLater


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Parse a Retry-After header (delta-seconds or HTTP-date) into seconds."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(int(value)))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now())


def transport_error(exc: requests.RequestException) -> RetryLater:
    """Connection refused, DNS, TLS handshake, timeouts: all worth retrying."""
    kind = "timeout" if isinstance(exc, requests.Timeout) else "network error"
    return RetryLater(f"{kind}: {type(exc).__name__}: {exc}")


def status_result(response: requests.Response, what: str) -> RetryLater | Failed | None:
    """Generic classification for non-2xx statuses; None when the status is 2xx."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    detail = f"{what}: HTTP {status}"
    if status == 429 or status >= 500:
        return RetryLater(detail, retry_after_seconds(response.headers.get("Retry-After")))
    return Failed(detail)


def json_body(response: requests.Response) -> dict[str, Any] | None:
    """The JSON object in a response, or None when it is not a JSON object."""
    try:
        data = json.loads(response.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None
