"""The one interface every notification channel implements.

Callers (the dispatcher, retry workers) only ever see `Message` in and one of
`Sent` / `RetryLater` / `Failed` out, so they can decide about retries without
knowing which provider sat behind the channel. Adapters must never raise for
provider trouble: transient problems become `RetryLater`, permanent ones
`Failed`. Only programming errors (a malformed `Message`) raise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to; each channel uses the address it understands."""

    phone: str | None = None  # E.164, e.g. "+8613800138000"
    email: str | None = None
    wechat_openid: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class Message:
    """A fully rendered notification, ready for any channel.

    `body` is the plain text (for log/email); `params` are the named template
    variables for providers that send a template code plus parameters
    (SMS, WeChat) instead of free text.
    """

    kind: str
    recipient: Recipient
    subject: str
    body: str
    params: Mapping[str, str]
    idempotency_key: str
    html: str | None = None  # an HTML alternative for email, rendered with autoescaping

    def __post_init__(self) -> None:
        if not self.kind:
            raise ValueError("Message.kind must not be empty")
        if not self.idempotency_key:
            raise ValueError("Message.idempotency_key must not be empty")
        for key, value in self.params.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError("Message.params must map str to str")


@dataclass(frozen=True)
class Sent:
    """The provider accepted the message."""

    provider_message_id: str | None = None


@dataclass(frozen=True)
class RetryLater:
    """A transient problem; the same message may succeed if sent again later."""

    reason: str
    after_seconds: float | None = None


@dataclass(frozen=True)
class Failed:
    """A permanent problem; sending the same message again will not help."""

    reason: str


SendResult = Sent | RetryLater | Failed


@runtime_checkable
class Channel(Protocol):
    """Anything that can try to deliver a `Message` once."""

    name: str

    def send(self, message: Message) -> SendResult:
        """Try one delivery; never raise for provider or network errors."""
        ...


def is_e164(phone: str) -> bool:
    """True when `phone` looks like an E.164 number ("+" then 7-15 digits)."""
    return bool(_E164.match(phone))


def require_phone(recipient: Recipient) -> str | Failed:
    """Return the recipient's E.164 phone, or the `Failed` an SMS channel should return."""
    if not recipient.phone:
        return Failed("no phone number")
    if not is_e164(recipient.phone):
        return Failed(f"invalid phone number {recipient.phone!r} (need E.164)")
    return recipient.phone
