"""Phone numbers in logs: enough to recognise a line, not enough to call anyone."""

from __future__ import annotations

import re

# A mainland mobile anywhere in a text: 13800138000, +8613800138000, +86 138 0013 8000,
# 86-138-0013-8000. Not inside a longer run of digits or letters (an id, a card number).
MOBILE_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])(?:\+?86[ -]?)?(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})(?![0-9A-Za-z])"
)


def mask_phone(phone: str | None) -> str:
    """``+8613800138000`` or ``13800138000`` → ``138****8000`` (a mainland mobile without ``+86``).

    Other numbers keep their first three and last four digits; anything shorter than eight
    characters becomes ``****``.
    """
    if not phone:
        return "****"
    digits = phone.strip()
    if digits.startswith("+86") and len(digits) == 14:
        digits = digits[3:]
    if len(digits) < 8:
        return "****"
    return digits[:3] + "****" + digits[-4:]


def mask_phones(text: str) -> str:
    """Every mainland mobile in ``text`` masked as :func:`mask_phone` does (``138****8000``)."""
    if not text:
        return text
    return MOBILE_IN_TEXT.sub(lambda m: mask_phone(m.group(1) + m.group(2) + m.group(3)), text)
