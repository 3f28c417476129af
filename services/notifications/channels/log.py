"""A channel that only logs: the default in development and tests, where no
real SMS or email must leave the machine.

Survey links carry a resident's token, so at INFO the text is logged with links
redacted (``/s/***``); the full text only at DEBUG, for a developer who asks.
"""

from __future__ import annotations

import logging
import re

from .base import Message, Sent

logger = logging.getLogger("lianxin.channel.log")

SURVEY_LINK = re.compile(r"(/s/)[A-Za-z0-9_\-]+")


def redact(text: str) -> str:
    return SURVEY_LINK.sub(r"\1***", text)


class LogChannel:
    """Logs the text that would be sent and reports it as sent."""

    name = "log"

    def send(self, message: Message) -> Sent:
        r = message.recipient
        line = "notification kind=%s key=%s to name=%s phone=%s email=%s openid=%s subject=%s body=%s params=%s"
        head = (message.kind, message.idempotency_key, r.name, r.phone, r.email, r.wechat_openid, message.subject)
        params = dict(message.params)
        logger.info(line, *head, redact(message.body), {k: redact(v) for k, v in params.items()})
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(line, *head, message.body, params)
        return Sent(provider_message_id=f"log:{message.idempotency_key}")
