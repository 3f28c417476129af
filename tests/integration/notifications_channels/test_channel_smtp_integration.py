"""SmtpEmailChannel against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from services.notifications.channels.base import Failed, Message, Recipient, RetryLater, Sent
from services.notifications.channels.email import SmtpEmailChannel

pytestmark = pytest.mark.integration

SENDER = "noreply@lianxin.example"


class RecordingHandler:
    """Accepts mail, except for scripted recipients that get 4xx/5xx replies."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("nobody@"):
            return "550 5.1.1 <nobody@example.com>: mailbox unavailable"
        if address.startswith("full@"):
            return "452 4.2.2 mailbox full, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if any(r.startswith("greylist@") for r in envelope.rcpt_tos):
            return "451 4.7.1 greylisted, try again later"
        if any(r.startswith("spam@") for r in envelope.rcpt_tos):
            return "554 5.7.1 message rejected as spam"
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _message(address: str, name: str | None = "王芳") -> Message:
    return Message(
        kind="survey.issued",
        recipient=Recipient(email=address, name=name),
        subject="【连心】请您评价本次上门维修服务",
        body="王芳您好：\n您报修的厨房水管已修好，请花一分钟为本次服务打分。\n连心物业",
        params={},
        idempotency_key="visit-77-survey",
    )


def test_zh_cn_email_delivered(smtp_server) -> None:
    handler = RecordingHandler()
    port = smtp_server(handler)
    channel = SmtpEmailChannel("127.0.0.1", port, SENDER, timeout=5)

    result = channel.send(_message("wang.fang@example.com"))

    assert isinstance(result, Sent)
    (envelope,) = handler.envelopes
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == ["wang.fang@example.com"]
    received = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert received["Subject"] == "【连心】请您评价本次上门维修服务"
    assert received["To"].addresses[0].display_name == "王芳"
    assert received["Message-ID"] == result.provider_message_id
    assert received.get_content_type() == "text/plain"
    assert received.get_content_charset() == "utf-8"
    assert "厨房水管已修好" in received.get_content()


@pytest.mark.parametrize(
    ("address", "expected", "code"),
    [
        ("nobody@example.com", Failed, "550"),
        ("full@example.com", RetryLater, "452"),
        ("greylist@example.com", RetryLater, "451"),
        ("spam@example.com", Failed, "554"),
    ],
)
def test_smtp_error_replies(smtp_server, address, expected, code) -> None:
    handler = RecordingHandler()
    port = smtp_server(handler)
    result = SmtpEmailChannel("127.0.0.1", port, SENDER, timeout=5).send(_message(address))
    assert isinstance(result, expected)
    assert code in result.reason
    assert handler.envelopes == []


def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"lianxin"
        and auth_data.password == b"correct horse"
    )
    return AuthResult(success=ok, handled=False)


def test_login_when_configured(smtp_server) -> None:
    handler = RecordingHandler()
    port = smtp_server(handler, authenticator=_authenticator, auth_require_tls=False)
    good = SmtpEmailChannel("127.0.0.1", port, SENDER, username="lianxin", password="correct horse", timeout=5)
    bad = SmtpEmailChannel("127.0.0.1", port, SENDER, username="lianxin", password="wrong", timeout=5)

    assert isinstance(good.send(_message("wang.fang@example.com")), Sent)
    refused = bad.send(_message("wang.fang@example.com"))
    assert isinstance(refused, Failed)
    assert "535" in refused.reason
    assert len(handler.envelopes) == 1


def test_starttls_unsupported_is_failed(smtp_server) -> None:
    # The server offers no STARTTLS; a channel configured to require it must not
    # fall back to plaintext, and retrying would not help.
    port = smtp_server(RecordingHandler())
    channel = SmtpEmailChannel("127.0.0.1", port, SENDER, starttls=True, timeout=5)
    result = channel.send(_message("wang.fang@example.com"))
    assert isinstance(result, Failed)
    assert "extension" in result.reason
