"""Backoff bounds, schedule span, and the token bucket on a fake clock."""

from __future__ import annotations

import random
import threading

import pytest

from services.notifications.channels.backoff import (
    TokenBucket,
    ceiling,
    delay_for,
    next_delay,
    schedule,
)

pytestmark = pytest.mark.unit


def test_ceiling_doubles_then_caps() -> None:
    assert [ceiling(n) for n in range(7)] == [30, 60, 120, 240, 480, 480, 480]
    assert ceiling(10_000) == 480


@pytest.mark.parametrize("attempt", range(12))
def test_next_delay_within_full_jitter_bounds(attempt: int) -> None:
    rng = random.Random(attempt).random
    for _ in range(200):
        delay = next_delay(attempt, rng=rng)
        assert 0.0 <= delay <= ceiling(attempt)


def test_next_delay_extremes_of_rng() -> None:
    assert next_delay(3, rng=lambda: 0.0) == 0.0
    assert next_delay(3, rng=lambda: 0.999999) == pytest.approx(240.0, rel=1e-5)
    assert next_delay(2, base=1.0, cap=3.0, rng=lambda: 0.5) == 1.5


def test_negative_attempt_rejected() -> None:
    with pytest.raises(ValueError):
        next_delay(-1)


def test_eight_tries_span_about_thirty_minutes() -> None:
    waits = schedule(8)
    assert len(waits) == 7
    assert 25 * 60 <= sum(waits) <= 35 * 60


def test_jittered_schedule_never_exceeds_worst_case() -> None:
    worst = schedule(8)
    rng = random.Random(7).random
    for _ in range(100):
        drawn = schedule(8, rng=rng)
        assert all(0 <= d <= w for d, w in zip(drawn, worst, strict=True))


def test_delay_for_honours_provider_hint() -> None:
    assert delay_for(0, after_seconds=90.0, rng=lambda: 0.5) == 90.0
    assert delay_for(4, after_seconds=1.0, rng=lambda: 0.5) == 240.0
    assert delay_for(0, rng=lambda: 0.5) == 15.0


def test_token_bucket_burst_then_refill(fake_clock) -> None:
    bucket = TokenBucket(rate_per_s=2.0, burst=3, clock=fake_clock)
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_time() == pytest.approx(0.5)
    fake_clock.advance(0.25)
    assert not bucket.try_acquire()
    assert bucket.wait_time() == pytest.approx(0.25)
    fake_clock.advance(0.25)
    assert bucket.wait_time() == 0.0
    assert bucket.try_acquire()
    assert not bucket.try_acquire()


def test_token_bucket_never_exceeds_burst(fake_clock) -> None:
    bucket = TokenBucket(rate_per_s=10.0, burst=2, clock=fake_clock)
    fake_clock.advance(3600)
    assert [bucket.try_acquire() for _ in range(3)] == [True, True, False]


def test_token_bucket_is_thread_safe(fake_clock) -> None:
    bucket = TokenBucket(rate_per_s=1.0, burst=50, clock=fake_clock)
    granted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(20):
            ok = bucket.try_acquire()
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sum(granted) == 50


def test_token_bucket_rejects_bad_config() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0, 1)
    with pytest.raises(ValueError):
        TokenBucket(1, 0)
