"""A channel that only logs: the default in development and tests, where no
real SMS or email must leave the machine.

Survey links carry a resident's token, so at INFO the text is logged with links
redacted (``/s/***``); the full text only at DEBUG, for a developer who asks. Phones
are masked (``138****8000``) on every line.

A sign-in code is a credential: in development (``show_codes``) it is logged on a line
of its own so a developer can sign in (``sign-in code for 138****8000: 123456``); in
production it never reaches a log at any level.
"""

from __future__ import annotations

import logging
import re

from services.common.phones import mask_phone

from .base import Message, Sent

logger = logging.getLogger("lianxin.channel.log")

SURVEY_LINK = re.compile(r"(/s/)[A-Za-z0-9_\-]+")
SIGN_IN_KIND = "sign_in.code"


def redact(text: str) -> str:
    return SURVEY_LINK.sub(r"\1***", text)


class LogChannel:
    """Logs the text that would be sent and reports it as sent."""

    name = "log"

    def __init__(self, show_codes: bool = False) -> None:
        self.show_codes = show_codes

    def send(self, message: Message) -> Sent:
        r = message.recipient
        sent = Sent(provider_message_id=f"log:{message.idempotency_key}")
        if message.kind == SIGN_IN_KIND:  # never the body or parameters: they hold the code
            if self.show_codes:
                logger.info("sign-in code for %s: %s", mask_phone(r.phone), message.params.get("code", ""))
            else:
                logger.info("sign-in code for %s sent (codes are not logged in production)", mask_phone(r.phone))
            return sent
        line = "notification kind=%s key=%s to name=%s phone=%s email=%s openid=%s subject=%s body=%s params=%s"
        phone = mask_phone(r.phone) if r.phone else None
        head = (message.kind, message.idempotency_key, r.name, phone, r.email, r.wechat_openid, message.subject)
        params = dict(message.params)
        logger.info(line, *head, redact(message.body), {k: redact(v) for k, v in params.items()})
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(line, *head, message.body, params)
        return sent
