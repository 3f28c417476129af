"""Email over plain SMTP (optionally STARTTLS + AUTH), with stdlib only.

One connection per message keeps the adapter stateless and thread-safe; the
volume of community notices does not justify connection pooling.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

from .base import Failed, Message, RetryLater, SendResult, Sent


def smtp_code_result(code: int, text: str | bytes, what: str) -> RetryLater | Failed:
    """RFC 5321: 4xx is transient, 5xx permanent; anything odd is treated as transient."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    reason = f"smtp {what}: {code} {text}".strip()
    if 500 <= code < 600:
        return Failed(reason)
    return RetryLater(reason)


class SmtpEmailChannel:
    """Sends `Message.subject`/`Message.body` as a UTF-8 plain-text email."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout
        self._ssl_context = ssl_context

    def build(self, message: Message) -> EmailMessage | Failed:
        """The MIME message; Failed when the recipient address is unusable."""
        r = message.recipient
        if not r.email:
            return Failed("no email address")
        try:
            to = Address(display_name=r.name or "", addr_spec=r.email)
        except (ValueError, IndexError) as exc:
            return Failed(f"invalid email address {r.email!r}: {exc}")
        domain = self._sender.rpartition("@")[2] or "lianxin.local"
        digest = hashlib.sha256(message.idempotency_key.encode("utf-8")).hexdigest()[:32]
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self._sender
        mail["To"] = to
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        # Stable per idempotency key, so a re-sent duplicate is recognisable.
        mail["Message-ID"] = f"<{digest}@{domain}>"
        mail["X-Lianxin-Kind"] = message.kind
        mail.set_content(message.body, charset="utf-8")
        if message.html:
            mail.add_alternative(message.html, subtype="html", charset="utf-8")
        return mail

    def send(self, message: Message) -> SendResult:
        mail = self.build(message)
        if isinstance(mail, Failed):
            return mail
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                if self._username is not None:
                    smtp.login(self._username, self._password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b"recipient refused"))
            return smtp_code_result(code, text, "recipient refused")
        except smtplib.SMTPResponseException as exc:
            # Sender refused, DATA refused, AUTH failed, HELO refused, etc.
            return smtp_code_result(exc.smtp_code, exc.smtp_error, type(exc).__name__)
        except smtplib.SMTPNotSupportedError as exc:
            return Failed(f"smtp: server lacks a required extension: {exc}")
        except ssl.SSLCertVerificationError as exc:
            return Failed(f"smtp: TLS certificate rejected: {exc}")
        except smtplib.SMTPServerDisconnected as exc:
            return RetryLater(f"smtp: server disconnected: {exc}")
        except smtplib.SMTPException as exc:
            return RetryLater(f"smtp: {type(exc).__name__}: {exc}")
        except OSError as exc:  # refused, unreachable, DNS, timeout, TLS handshake
            return RetryLater(f"smtp: connection error: {type(exc).__name__}: {exc}")
        return Sent(str(mail["Message-ID"]))
