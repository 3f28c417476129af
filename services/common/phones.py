"""Phone numbers in logs: enough to recognise a line, not enough to call anyone."""

from __future__ import annotations


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
