"""Sign-in codes: sent now, through the one channel configured for them, and never kept.

The gateway makes the code and keeps its keyed hash; this service only carries it: the
message goes out at once (no queue: a code is good for five minutes), and the delivery row
kept as the audit trail holds a redacted body, never the code. Nothing returns the code.

``SIGN_IN_CHANNEL`` picks the channel: ``log`` (the default in development; the code shows in
the log only there), ``sms`` (the default in production: the first of ``aliyun_sms`` and
``tencent_sms`` in ``NOTIFY_CHANNELS``), or a channel's own name. An SMS provider needs a
template for the kind ``sign_in.code`` taking the variable ``code``, e.g.
``ALIYUN_SMS_TEMPLATES=…,sign_in.code=SMS_123:code``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nameko.extensions import DependencyProvider
from sqlalchemy.orm import Session

from services.common.ids import new_id
from services.common.phones import mask_phone
from services.notifications.channels.base import Channel, Failed, Message, Recipient
from services.notifications.channels.log import SIGN_IN_KIND
from services.notifications.deliveries import record_result
from services.notifications.models import Delivery
from services.notifications.settings import (
    KNOWN_CHANNELS,
    RetryPolicy,
    Settings,
    TemplateSpec,
    build_channels,
    channel_names,
    provider_params,
)

log = logging.getLogger(__name__)

KIND = SIGN_IN_KIND
TENANT = "platform"  # a sign-in belongs to no company: its deliveries are nobody's to list
SMS_CHANNELS = ("aliyun_sms", "tencent_sms")
SUBJECT = "连心登录验证码"
BODY = "【连心】您的登录验证码是 {code}，5 分钟内有效。请勿告诉他人，工作人员不会向您索要验证码。"
ONCE = RetryPolicy(max_attempts=1)  # no retry: the person asks for a new code instead


def channel_name(settings: Settings) -> str:
    """The channel of ``SIGN_IN_CHANNEL`` (see the module docstring); raises ValueError when unusable."""
    production = settings.get("LIANXIN_ENV").strip().lower() == "production"
    chosen = settings.get("SIGN_IN_CHANNEL").strip() or ("sms" if production else "log")
    if chosen == "sms":
        sms = [name for name in channel_names(settings) if name in SMS_CHANNELS]
        if not sms:
            raise ValueError("SIGN_IN_CHANNEL=sms needs aliyun_sms or tencent_sms in NOTIFY_CHANNELS")
        chosen = sms[0]
    if chosen not in KNOWN_CHANNELS or chosen == "inapp":
        raise ValueError(f"SIGN_IN_CHANNEL: {chosen!r} cannot carry a code; use log, sms or an SMS channel")
    if production and chosen == "log":
        log.warning("SIGN_IN_CHANNEL=log in production: codes are sent nowhere (the log never shows them)")
    return chosen


@dataclass(frozen=True)
class CodeSender:
    """The built channel for codes, with its provider template (SMS) if any."""

    name: str
    channel: Channel
    spec: TemplateSpec | None = None

    def message(self, phone: str, code: str, key: str) -> Message:
        return Message(
            kind=KIND,
            recipient=Recipient(phone=phone),
            subject=SUBJECT,
            body=BODY.format(code=code),
            params=provider_params(self.spec, {"code": code}),
            idempotency_key=key,
        )


def build(settings: Settings) -> CodeSender:
    """The code channel, built like every channel (its settings), whether or not NOTIFY_CHANNELS has it."""
    name = channel_name(settings)
    built = build_channels(Settings({**settings.config, "NOTIFY_CHANNELS": name}, settings.environ))
    return CodeSender(name, built.senders[name], built.templates.get(name, {}).get(KIND))


def send(session: Session, sender: CodeSender, phone: str, code: str, now: datetime) -> dict:
    """Send the code now; record the delivery without it. Returns the delivery's id, channel and status."""
    row = Delivery(
        id=new_id(),
        tenant=TENANT,
        trigger_id=new_id(),
        kind=KIND,
        channel=sender.name,
        recipient_phone=phone,
        recipient_role="person",
        subject=SUBJECT,
        body=BODY.format(code="******"),
        outbound=None,
        status="queued",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    try:
        result = sender.channel.send(sender.message(phone, code, row.id))
    except Exception as exc:  # a channel must not raise; if one does, the person still gets an answer
        log.exception("sign-in code channel %s raised", sender.name)
        result = Failed(f"channel raised {type(exc).__name__}")
    record_result(row, result, now, ONCE)
    session.add(row)
    log.info("sign-in code to %s via %s: %s", mask_phone(phone), sender.name, row.status)
    return {"delivery_id": row.id, "channel": sender.name, "status": row.status}


class SignInCodes(DependencyProvider):
    """The code channel of this notifications process, built (and checked) at start."""

    def setup(self) -> None:
        self.sender = build(Settings(self.container.config))

    def get_dependency(self, worker_ctx: Any) -> CodeSender:
        return self.sender
