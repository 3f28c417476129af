"""How long a delivery waits before its next try: jittered exponential backoff, or the provider's hint."""

from __future__ import annotations

from datetime import timedelta

from services.notifications.channels import backoff
from services.notifications.settings import RetryPolicy


def wait(attempts: int, after_seconds: float | None, policy: RetryPolicy) -> timedelta:
    """After ``attempts`` failed tries (1-based): full jitter, never sooner than Retry-After."""
    seconds = backoff.delay_for(attempts - 1, after_seconds, policy.base_seconds, policy.cap_seconds)
    return timedelta(seconds=seconds)
