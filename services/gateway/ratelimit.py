"""Per-API-key rate limits: a moving window (the ``limits`` library), 429 with ``Retry-After``.

The default (``RATE_LIMIT``, e.g. ``"1000/second;20000/minute"``) applies to every key; a key
may carry its own. ``RATE_LIMIT_STORAGE`` is ``memory://`` (each gateway instance counts on
its own) or ``redis://host:6379`` (all instances share the count).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from functools import cache
from typing import Any

from limits import RateLimitItem, parse_many, storage, strategies
from nameko.extensions import DependencyProvider

from services.common.errors import LianxinError

DEFAULT_RATE_LIMIT = "1000/second"


class TooManyRequests(LianxinError):
    status = 429
    title = "Too many requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit reached: retry after {retry_after} s")
        self.retry_after = retry_after


@cache
def limits_of(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


class Limiter:
    """Counts hits per key; says how long to wait when a limit is reached."""

    def __init__(self, default: str, storage_uri: str = "memory://") -> None:
        self.default = default
        self.window = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    def hit(self, key_id: str, own: str | None = None) -> None:
        """Count one request of ``key_id``, or raise :class:`TooManyRequests` (not counted)."""
        self.hit_each(((key_id, own or self.default),))

    def hit_each(self, counts: Sequence[tuple[str, str]]) -> None:
        """Count one hit on each (key, limits), or none of them when any limit is reached.

        Sign-in codes count per phone and per client address: a refused send must use up
        neither, or one busy address could lock a phone out.
        """
        wait = 0
        for key, text in counts:
            for item in limits_of(text):
                if not self.window.test(item, key):
                    reset = self.window.get_window_stats(item, key).reset_time
                    wait = max(wait, math.ceil(reset - time.time()), 1)
        if wait:
            raise TooManyRequests(wait)
        for key, text in counts:
            for item in limits_of(text):
                self.window.hit(item, key)


class RateLimits(DependencyProvider):
    """One :class:`Limiter` per gateway process, configured from the container config."""

    def setup(self) -> None:
        config = self.container.config
        self.limiter = Limiter(
            config.get("RATE_LIMIT") or DEFAULT_RATE_LIMIT, config.get("RATE_LIMIT_STORAGE") or "memory://"
        )

    def get_dependency(self, worker_ctx: Any) -> Limiter:
        return self.limiter
