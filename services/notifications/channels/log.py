"""A channel that only logs: the default in development and tests, where no
real SMS or email must leave the machine.

At INFO the line shows what kind of message went where and its text, with nothing that
identifies a person: survey links redacted (``/s/***``), phones masked (``138****8000``),
and the names a template put in the text (the recipient's, a visiting volunteer's) and the
email address and WeChat openid replaced by ``***``. Logs are kept and shipped widely; a
resident's name and number are not theirs to keep. The full text only at DEBUG, for a
developer who asks (phones are still masked there by the logging set-up,
:class:`services.common.logs.MaskPhones`).

A sign-in code is a credential: in development (``show_codes``) it is logged on a line
of its own so a developer can sign in (``sign-in code for 138****8000: 123456``); in
production it never reaches a log at any level.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from services.common.phones import mask_phone, mask_phones

from .base import Message, Sent

logger = logging.getLogger("lianxin.channel.log")

SURVEY_LINK = re.compile(r"(/s/)[A-Za-z0-9_\-]+")
SIGN_IN_KIND = "sign_in.code"
HIDDEN = "***"
# Template variables that hold a person's name (services/notifications/templates.py).
PERSONAL_PARAMS = ("name", "visitor", "volunteer_name", "resident_name")


def redact(text: str) -> str:
    return SURVEY_LINK.sub(r"\1***", text)


def without(text: str, names: Iterable[str]) -> str:
    """``text`` with each of ``names`` replaced by ``***``, longest first (``志愿者王五`` before ``王五``)."""
    for name in sorted({n for n in names if n and n.strip()}, key=len, reverse=True):
        text = text.replace(name, HIDDEN)
    return text


def anonymous(text: str, names: Iterable[str]) -> str:
    """What INFO may show of a text: no survey token, no name, no whole phone."""
    return mask_phones(without(redact(text), names))


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
        params = dict(message.params)
        names = [r.name or "", *(params.get(key, "") for key in PERSONAL_PARAMS)]
        info = "notification kind=%s key=%s to phone=%s email=%s openid=%s subject=%s body=%s params=%s"
        logger.info(
            info,
            message.kind,
            message.idempotency_key,
            mask_phone(r.phone) if r.phone else None,
            HIDDEN if r.email else None,
            HIDDEN if r.wechat_openid else None,
            anonymous(message.subject, names),
            anonymous(message.body, names),
            {k: HIDDEN if k in PERSONAL_PARAMS else anonymous(v, names) for k, v in params.items()},
        )
        if logger.isEnabledFor(logging.DEBUG):
            full = "notification kind=%s key=%s to name=%s phone=%s email=%s openid=%s subject=%s body=%s params=%s"
            head = (message.kind, message.idempotency_key, r.name, mask_phone(r.phone) if r.phone else None)
            logger.debug(full, *head, r.email, r.wechat_openid, message.subject, message.body, params)
        return sent
