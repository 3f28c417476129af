"""Identifiers that sort by creation time (UUIDv7, RFC 9562) and tokens nobody can guess."""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid

_lock = threading.Lock()
_last = [0, 0]  # last millisecond, last 12-bit counter


def new_id() -> str:
    """A UUIDv7: 48-bit Unix milliseconds, a 12-bit counter, 62 random bits (RFC 9562, method 1).

    The counter makes ids from one process strictly increasing even within a millisecond;
    cursor pagination (`starting_after`) relies on that order.
    """
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last[0]:
            ms, counter = _last[0], _last[1] + 1
            if counter > 0xFFF:
                ms, counter = ms + 1, 0
        else:
            counter = int.from_bytes(os.urandom(2), "big") & 0x7FF  # leave room to count up
        _last[0], _last[1] = ms, counter
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= counter << 64
    value |= 0b10 << 62  # RFC 4122 variant
    value |= int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def new_token() -> str:
    """An unguessable URL-safe token of 192 bits (survey links, API keys)."""
    return secrets.token_urlsafe(24)
