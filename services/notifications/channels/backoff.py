"""Retry timing and rate limiting for channel sends.

Exponential backoff with *full jitter* (delay uniform in [0, min(cap, base*2^n)])
spreads retries of many failed messages so a recovering provider is not hit
by a synchronized wave. With the defaults, 8 tries (7 waits) have a worst-case
span of 30+60+120+240+480+480+480 s = 31.5 minutes, about half that on average.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

DEFAULT_BASE = 30.0
DEFAULT_CAP = 480.0
DEFAULT_TRIES = 8


def ceiling(attempt: int, base: float = DEFAULT_BASE, cap: float = DEFAULT_CAP) -> float:
    """Upper bound of the delay after failed attempt number `attempt` (0-based)."""
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    # Avoid float overflow for absurd attempt numbers.
    return min(cap, base * (2.0 ** min(attempt, 64)))


def next_delay(
    attempt: int,
    base: float = DEFAULT_BASE,
    cap: float = DEFAULT_CAP,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after failed attempt `attempt` (0-based), full jitter."""
    return rng() * ceiling(attempt, base, cap)


def delay_for(
    attempt: int,
    after_seconds: float | None = None,
    base: float = DEFAULT_BASE,
    cap: float = DEFAULT_CAP,
    rng: Callable[[], float] = random.random,
) -> float:
    """Like `next_delay`, but never sooner than a provider's Retry-After hint."""
    delay = next_delay(attempt, base, cap, rng)
    return max(delay, after_seconds) if after_seconds is not None else delay


def schedule(
    tries: int = DEFAULT_TRIES,
    base: float = DEFAULT_BASE,
    cap: float = DEFAULT_CAP,
    rng: Callable[[], float] | None = None,
) -> list[float]:
    """The waits between `tries` attempts (len == tries - 1).

    Without `rng` it returns the ceilings (the worst case, sum ~31.5 min for
    the defaults); with `rng` it returns one jittered draw.
    """
    if tries < 1:
        raise ValueError("tries must be >= 1")
    if rng is None:
        return [ceiling(n, base, cap) for n in range(tries - 1)]
    return [next_delay(n, base, cap, rng) for n in range(tries - 1)]


class TokenBucket:
    """Thread-safe token bucket: `rate_per_s` sustained, up to `burst` at once.

    Used to stay under provider rate limits (e.g. per-second SMS quotas)
    instead of collecting throttling errors.
    """

    def __init__(self, rate_per_s: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self._rate = float(rate_per_s)
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self._burst, self._tokens + elapsed * self._rate)

    def try_acquire(self) -> bool:
        """Take one token if available, without waiting."""
        with self._lock:
            self._refill()
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False

    def wait_time(self) -> float:
        """Seconds until a token will be available (0.0 if one is now)."""
        with self._lock:
            self._refill()
            return max(0.0, (1.0 - self._tokens) / self._rate)
