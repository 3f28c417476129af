"""No log line holds a resident's whole phone number, and the ``log`` channel holds no name.

Issue 18: the ``log`` channel wrote residents' full phones and names at INFO. Phones are now
masked (``138****8000``) by every handler the logging set-up installs (``logs.MaskPhones``),
whatever logged them; the channel itself leaves names out.
"""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from services.common import logs
from services.common.phones import mask_phones
from services.notifications.channels.base import Message, Recipient
from services.notifications.channels.log import LogChannel

pytestmark = pytest.mark.unit

FULL = ("13800138000", "13912345678", "0013", "1234 5678")


@pytest.fixture(params=["text", "json"])
def service_log(request, monkeypatch):
    """The log as a service process sets it up (``logs.configure``), in either format; restored after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    logs.configure("gateway", "DEBUG", request.param)
    try:
        yield out.getvalue
    finally:
        root.handlers[:], root.level = saved


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("13800138000", "138****8000"),
        ("+8613800138000", "138****8000"),
        ("+86 138 0013 8000", "138****8000"),
        ("86-138-0013-8000", "138****8000"),
        ("电话13912345678。", "电话139****5678。"),
        ("{'phone': '+8613912345678'}", "{'phone': '139****5678'}"),
        ("case 01JD13800138000X7", "case 01JD13800138000X7"),  # inside an id: not a phone
        ("12800138000 and 400-800-1234", "12800138000 and 400-800-1234"),  # not mobiles
    ],
)
def test_mainland_mobiles_in_any_text_are_masked(text, masked):
    assert mask_phones(text) == masked


def test_a_phone_in_a_message_its_arguments_or_an_exception_never_reaches_the_log_whole(service_log):
    log = logging.getLogger("lianxin.test.phones")
    log.info("reporter 13800138000 called")
    log.info("event %s", {"reporter": {"name": "陈先生", "phone": "+8613800138000"}})
    log.warning("contact %s / %s", "+86 139 1234 5678", 13912345678)
    try:
        raise ValueError("no contact for +8613912345678")
    except ValueError:
        log.exception("import failed")
    logging.getLogger("nameko.web.server").warning('127.0.0.1 "GET /api/v1/cases?reporter_phone=13800138000"')
    written = service_log()
    for whole in FULL:
        assert whole not in written
    assert written.count("138****8000") == 3 and "ValueError: no contact for 139****5678" in written


def test_the_log_channel_writes_no_name_and_no_whole_phone_at_info(caplog):
    message = Message(
        kind="visit.scheduled.resident",
        recipient=Recipient(phone="+8613800138000", email="chen@example.com", wechat_openid="oUpF8u", name="陈先生"),
        subject="回访预约",
        body="陈先生您好，针对“楼道灯不亮”，志愿者王五（13912345678）将在12月3日前对您进行回访。",
        params={"name": "陈先生", "visitor": "志愿者王五", "title": "楼道灯不亮", "due": "12月3日"},
        idempotency_key="d-1",
    )
    with caplog.at_level(logging.INFO, logger="lianxin.channel.log"):
        LogChannel().send(message)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "lianxin.channel.log"]
    for personal in ("陈先生", "王五", "chen@example.com", "oUpF8u", "13800138000", "13912345678"):
        assert personal not in line
    assert "phone=138****8000" in line and "***您好，针对“楼道灯不亮”，***（139****5678）将在12月3日前" in line


def test_the_json_format_masks_phones_too(service_log):
    logging.getLogger("lianxin.test.phones").info("to %s", "+8613800138000")
    lines = [json.loads(line) for line in service_log().splitlines() if line.startswith("{")]
    if lines:  # the json format of this parametrisation
        assert lines[-1]["message"] == "to 138****8000"
