"""Identifiers that sort by creation time (UUIDv7, RFC 9562) and tokens nobody can guess."""

from __future__ import annotations

import os
import secrets
import time
import uuid


def new_id() -> str:
    """A UUIDv7: 48-bit Unix milliseconds then 74 random bits, so ids order by creation.

    Cursor pagination (`starting_after`) relies on that order being stable.
    """
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return str(uuid.UUID(int=value))


def new_token() -> str:
    """An unguessable URL-safe token of 192 bits (survey links, API keys)."""
    return secrets.token_urlsafe(24)
