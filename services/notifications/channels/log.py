"""A channel that only logs: the default in development and tests, where no
real SMS or email must leave the machine."""

from __future__ import annotations

import logging

from .base import Message, Sent

logger = logging.getLogger("lianxin.channel.log")


class LogChannel:
    """Logs the text that would be sent and reports it as sent."""

    name = "log"

    def send(self, message: Message) -> Sent:
        r = message.recipient
        logger.info(
            "notification kind=%s key=%s to name=%s phone=%s email=%s openid=%s subject=%s body=%s params=%s",
            message.kind,
            message.idempotency_key,
            r.name,
            r.phone,
            r.email,
            r.wechat_openid,
            message.subject,
            message.body,
            dict(message.params),
        )
        return Sent(provider_message_id=f"log:{message.idempotency_key}")
