"""The Message/result types, LogChannel, and building emails (no SMTP here)."""

from __future__ import annotations

import dataclasses
import logging
import smtplib

import pytest

from services.notifications.channels import (
    AliyunSmsChannel,
    Channel,
    LogChannel,
    SmtpEmailChannel,
    TencentSmsChannel,
    WeChatSubscribeChannel,
)
from services.notifications.channels.base import (
    Failed,
    Message,
    Recipient,
    RetryLater,
    Sent,
    is_e164,
)
from services.notifications.channels.email import smtp_code_result

pytestmark = pytest.mark.unit


def test_message_is_frozen(make_message) -> None:
    message = make_message()
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.kind = "other"  # type: ignore[misc]


def test_message_requires_key_and_kind() -> None:
    with pytest.raises(ValueError):
        Message("k", Recipient(), "s", "b", {}, "")
    with pytest.raises(ValueError):
        Message("", Recipient(), "s", "b", {}, "key")


def test_message_params_must_be_strings() -> None:
    with pytest.raises(TypeError):
        Message("k", Recipient(), "s", "b", {"n": 1}, "key")  # type: ignore[dict-item]


def test_result_types() -> None:
    assert Sent("x").provider_message_id == "x"
    assert RetryLater("busy").after_seconds is None
    assert Failed("nope").reason == "nope"


@pytest.mark.parametrize(
    ("phone", "ok"),
    [("+8613800138000", True), ("13800138000", False), ("+86 138", False), ("+0123456", False)],
)
def test_e164(phone: str, ok: bool) -> None:
    assert is_e164(phone) is ok


def test_all_adapters_satisfy_channel_protocol() -> None:
    adapters = [
        LogChannel(),
        SmtpEmailChannel("127.0.0.1", 25, "noreply@lianxin.example"),
        AliyunSmsChannel("i", "s", "n", {}),
        TencentSmsChannel("i", "s", "1", "n", {}, {}),
        WeChatSubscribeChannel("a", "s", {}),
    ]
    for adapter in adapters:
        assert isinstance(adapter, Channel)
        assert isinstance(adapter.name, str) and adapter.name
    assert len({a.name for a in adapters}) == len(adapters)


def test_log_channel_logs_the_masked_recipient_and_the_body_without_the_name(make_message, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="lianxin.channel.log"):
        result = LogChannel().send(make_message())
    assert result == Sent("log:notif-0001")
    (record,) = [r for r in caplog.records if r.name == "lianxin.channel.log"]
    assert record.levelno == logging.INFO
    text = record.getMessage()
    assert "138****8000" in text and "13800138000" not in text
    assert "张三" not in text and "zhang.san" not in text
    assert "***您好，请参与本月物业服务满意度调查" in text


def test_email_build_utf8(make_message) -> None:
    channel = SmtpEmailChannel("127.0.0.1", 25, "noreply@lianxin.example")
    mail = channel.build(make_message())
    assert not isinstance(mail, Failed)
    assert mail["Subject"] == "【连心】满意度调查邀请"
    assert mail["To"].addresses[0].display_name == "张三"
    assert mail["To"].addresses[0].addr_spec == "zhang.san@example.com"
    assert mail.get_content_charset() == "utf-8"
    assert "满意度调查" in mail.get_content()
    wire = mail.as_bytes()
    assert b"=?utf-8?" in wire  # encoded-word subject, not raw 8-bit header
    assert mail["Message-ID"].endswith("@lianxin.example>")


def test_email_message_id_stable_per_key(make_message) -> None:
    channel = SmtpEmailChannel("127.0.0.1", 25, "noreply@lianxin.example")
    first = channel.build(make_message())
    again = channel.build(make_message())
    other = channel.build(make_message(idempotency_key="notif-0002"))
    assert first["Message-ID"] == again["Message-ID"] != other["Message-ID"]


def test_email_without_address_fails(make_message) -> None:
    channel = SmtpEmailChannel("127.0.0.1", 25, "noreply@lianxin.example")
    result = channel.send(make_message(recipient=Recipient(phone="+8613800138000")))
    assert result == Failed("no email address")


def test_email_connection_refused_is_retry_later(make_message, unused_tcp_port) -> None:
    channel = SmtpEmailChannel("127.0.0.1", unused_tcp_port, "noreply@lianxin.example", timeout=2)
    result = channel.send(make_message())
    assert isinstance(result, RetryLater)
    assert "connection" in result.reason


@pytest.mark.parametrize(("code", "expected"), [(421, RetryLater), (451, RetryLater), (550, Failed), (554, Failed)])
def test_smtp_code_classification(code: int, expected: type) -> None:
    assert isinstance(smtp_code_result(code, b"text", "x"), expected)


def test_smtp_exceptions_are_not_raised(make_message, monkeypatch) -> None:
    class Exploding:
        def __init__(self, *a, **k) -> None:
            raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(smtplib, "SMTP", Exploding)
    channel = SmtpEmailChannel("127.0.0.1", 25, "noreply@lianxin.example")
    assert isinstance(channel.send(make_message()), RetryLater)


@pytest.fixture
def unused_tcp_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
