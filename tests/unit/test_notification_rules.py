"""The notification rules as plain functions: quiet hours, channel plans, templates, imports, retries."""

from datetime import datetime, timedelta

import pytest
import time_machine
from jinja2 import UndefinedError

from services.common.db import utcnow
from services.notifications import deliveries, imports, templates, triggers, webhooks
from services.notifications.channels.aliyun_sms import AliyunSmsChannel
from services.notifications.channels.base import Failed, RetryLater, Sent
from services.notifications.channels.email import SmtpEmailChannel
from services.notifications.channels.log import LogChannel
from services.notifications.models import Delivery, WebhookDelivery, WebhookSubscription
from services.notifications.preferences import Planned, Reach, kind_of, plan
from services.notifications.quiet_hours import QuietHours, release_time
from services.notifications.settings import (
    RetryPolicy,
    Settings,
    TemplateSpec,
    WebhookPolicy,
    build_channels,
    channel_names,
    parse_rates,
    parse_templates,
    provider_params,
)
from services.notifications.templates import render_for

pytestmark = pytest.mark.unit

NIGHT = QuietHours()  # 22:00–07:00 Asia/Shanghai


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("shanghai", "ends_utc"),
    [
        ("2026-11-28T22:30:00+08:00", "2026-11-28T23:00:00"),  # evening: until 07:00 tomorrow
        ("2026-11-29T06:59:00+08:00", "2026-11-28T23:00:00"),  # early morning: until 07:00 today
        ("2026-11-28T22:00:00+08:00", "2026-11-28T23:00:00"),  # the first quiet minute
        ("2026-11-29T07:00:00+08:00", None),  # morning has come
        ("2026-11-28T21:59:59+08:00", None),
        ("2026-11-28T12:00:00+08:00", None),
    ],
)
def test_quiet_hours_hold_messages_until_seven_in_shanghai(shanghai, ends_utc):
    with time_machine.travel(datetime.fromisoformat(shanghai), tick=False):
        now = utcnow()
        assert NIGHT.ends_after(now) == (utc(ends_utc) if ends_utc else None)
        assert release_time(now, NIGHT, critical=False) == (utc(ends_utc) if ends_utc else now)
        assert release_time(now, NIGHT, critical=True) == now


def test_quiet_hours_within_a_day_and_switched_off():
    lunch = QuietHours("12:00", "14:00")
    assert lunch.ends_after(utc("2026-11-28T04:30:00")) == utc("2026-11-28T06:00:00")  # 12:30 local
    assert lunch.ends_after(utc("2026-11-28T06:00:00")) is None
    assert QuietHours("00:00", "00:00").ends_after(utc("2026-11-28T15:00:00")) is None


def test_the_plan_gives_inapp_always_and_holds_only_what_buzzes_a_phone():
    now = utc("2026-11-28T15:00:00")  # 23:00 in Shanghai
    morning = utc("2026-11-28T23:00:00")
    enabled = ["inapp", "log", "aliyun_sms", "email", "wechat"]
    assert plan("case.submitted", enabled, Reach(email="a@b.cn"), None, NIGHT, False, now) == [
        Planned("inapp", "queued", now),
        Planned("log", "queued", now),
        Planned("aliyun_sms", "queued", morning),
        Planned("email", "queued", morning),
    ]  # no openid: no WeChat delivery at all
    assert [p.not_before for p in plan("incident.declared", enabled, Reach(), None, NIGHT, True, now)] == [now] * 3


def test_preferences_suppress_channels_per_kind_except_for_emergencies():
    now = utc("2026-11-28T04:00:00")
    prefs = {"activity": ["inapp"], "case": ["aliyun_sms"]}
    enabled = ["inapp", "log", "aliyun_sms"]
    statuses = {p.channel: p.status for p in plan("activity.published", enabled, Reach(), prefs, NIGHT, False, now)}
    assert statuses == {"inapp": "queued", "log": "suppressed", "aliyun_sms": "suppressed"}
    statuses = {p.channel: p.status for p in plan("case.closed", enabled, Reach(), prefs, NIGHT, False, now)}
    assert statuses == {"inapp": "queued", "log": "suppressed", "aliyun_sms": "queued"}
    statuses = {p.channel: p.status for p in plan("activity.published", enabled, Reach(), prefs, NIGHT, True, now)}
    assert statuses == {"inapp": "queued", "log": "queued", "aliyun_sms": "queued"}
    assert kind_of("survey.issued") == "survey" and kind_of("notice") == "notice"


def test_templates_fail_on_a_missing_variable_and_take_the_tenants_name():
    with pytest.raises(UndefinedError):
        render_for("notice", "inapp", {"title": "停水"})
    plain = render_for("notice", "inapp", {"title": "停水", "body": "明天停水。"})
    assert (plain.subject, plain.body, plain.html) == ("停水", "物业服务中心通知：明天停水。", None)
    ours = render_for(
        "incident.resolved", "inapp", {"title": "停水"}, {"company": "新生活物业", "hotline": "0371-1234"}
    )
    assert ours.body == "新生活物业通知：“停水”已处理完毕，感谢您的理解与配合。咨询电话：0371-1234"
    sms = render_for("incident.declared", "aliyun_sms", {"title": "停水", "description": "x", "expected_end": "明天"})
    assert sms.body == "物业服务中心紧急通知：停水，预计明天恢复。"
    mail = render_for("notice", "email", {"title": "<b>", "body": "<script>alert(1)</script>"})
    assert "<script>" in mail.body and "<script>" not in mail.html and "&lt;script&gt;" in mail.html


def test_an_import_reports_each_rejected_row_and_keeps_the_good_ones():
    rows = imports.rows_from_csv(
        "\ufeffphone,name,email,role,estate_id,household,teams,extra\n"
        "13800000001,王芳,,resident,e1,1-1-101,义务维修队;红新小分队,x\n"
        "12345,坏号码,,,e1,1-1-102,,\n"
        "+86 138 0000 0002,李四,not-mail,,e1,1-1-103,,\n"
        "138-0000-0003,赵六,,boss,e1,1-1-104,,\n"
        "8613800000001,重复,,,e1,1-1-105,,\n"
        "13800000004,,,,,,,\n"
    )
    valid, rejected = imports.check([*rows, "not an object"])
    assert [(r["phone"], r["name"], r["teams"], r["email"]) for r in valid] == [
        ("+8613800000001", "王芳", ["义务维修队", "红新小分队"], None),
        ("+8613800000004", None, None, None),
    ]
    assert [(r["row"], sorted(r["errors"])) for r in rejected] == [
        (2, ["phone"]),
        (3, ["email"]),
        (4, ["role"]),
        (5, ["phone"]),
        (7, ["_schema"]),
    ]
    assert "repeats row 1" in rejected[3]["errors"]["phone"][0]


def test_ten_thousand_rows_validate_row_by_row():
    rows = [{"phone": f"1390{n:07d}", "estate_id": "e", "household": f"{n // 100}-1-{n % 100}"} for n in range(10_000)]
    valid, rejected = imports.check(rows)
    assert (len(valid), rejected) == (10_000, [])


def test_settings_build_the_configured_channels():
    settings = Settings(
        {"NOTIFY_CHANNELS": "log,email,aliyun_sms", "SMTP_HOST": "mail.local", "NOTIFY_RATE_LIMITS": "aliyun_sms=20"},
        {"ALIYUN_SMS_TEMPLATES": "survey.issued=SMS_1:name|link", "SMTP_PORT": "2525"},
    )
    assert channel_names(settings) == ["inapp", "log", "email", "aliyun_sms"]
    built = build_channels(settings)
    assert [type(c) for c in built.senders.values()] == [LogChannel, SmtpEmailChannel, AliyunSmsChannel]
    assert built.templates["aliyun_sms"] == {"survey.issued": TemplateSpec("SMS_1", ("name", "link"), ("name", "link"))}
    assert list(built.buckets) == ["aliyun_sms"]
    names = channel_names(settings)
    assert built.for_kind(names, "survey.issued") == ["inapp", "log", "email", "aliyun_sms"]
    assert built.for_kind(names, "case.closed") == ["inapp", "log", "email"]  # no SMS template for it
    with pytest.raises(ValueError, match="fax"):
        channel_names(Settings({"NOTIFY_CHANNELS": "inapp,fax"}, {}))
    assert channel_names(Settings({}, {})) == ["inapp", "log"]  # the default never leaves the machine


def test_provider_templates_pick_and_rename_parameters():
    spec = parse_templates("visit.scheduled=TMPL_1:thing1=title|time2=due")["visit.scheduled"]
    assert provider_params(spec, {"title": "回访", "due": "2026-12-01", "name": "王"}) == {
        "thing1": "回访",
        "time2": "2026-12-01",
    }
    assert provider_params(None, {"a": "1"}) == {"a": "1"}
    assert parse_rates("email=5, wechat=0.5") == {"email": 5.0, "wechat": 0.5}
    with pytest.raises(ValueError):
        parse_templates("survey.issued")


def test_retries_back_off_with_jitter_and_permanent_errors_fail_at_once():
    now = utc("2026-11-28T10:00:00")
    policy = RetryPolicy(max_attempts=8, base_seconds=30, cap_seconds=480)
    delivery = Delivery(channel="unit-sms", attempts=0, outbound="text", outbound_params={"link": "x"})
    waits = []
    for _ in range(7):
        deliveries.record_result(delivery, RetryLater("isp.SYSTEM_BUSY"), now, policy)
        waits.append((delivery.next_attempt_at - now).total_seconds())
    assert delivery.status == "queued" and delivery.attempts == 7
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(waits, (30, 60, 120, 240, 480, 480, 480), strict=True))
    deliveries.record_result(delivery, RetryLater("isp.SYSTEM_BUSY"), now, policy)
    assert (delivery.status, delivery.attempts, delivery.outbound, delivery.outbound_params) == (
        "failed",
        8,
        None,
        None,
    )

    hinted = Delivery(channel="unit-sms", attempts=0, outbound="text")
    deliveries.record_result(hinted, RetryLater("LimitExceeded", after_seconds=3600), now, policy)
    assert hinted.next_attempt_at - now >= timedelta(seconds=3600)
    permanent = Delivery(channel="unit-sms", attempts=0, outbound="text")
    deliveries.record_result(permanent, Failed("isv.MOBILE_NUMBER_ILLEGAL"), now, policy)
    assert (permanent.status, permanent.attempts, permanent.last_error) == ("failed", 1, "isv.MOBILE_NUMBER_ILLEGAL")


def test_an_endpoint_is_disabled_only_after_sustained_failures():
    policy = WebhookPolicy(disable_after_failures=3, disable_after_seconds=3600)
    retry = RetryPolicy(max_attempts=8, base_seconds=1, cap_seconds=1)
    start = utc("2026-11-28T10:00:00")
    hook = WebhookSubscription(status="active", consecutive_failures=0, failing_since=None)
    delivery = WebhookDelivery(status="queued", attempts=0)
    for minutes in (0, 10, 20, 30):  # four failures within half an hour: not yet "sustained"
        webhooks.record(delivery, hook, RetryLater("HTTP 503"), start + timedelta(minutes=minutes), retry, policy)
    assert (hook.status, hook.consecutive_failures, delivery.status) == ("active", 4, "queued")
    webhooks.record(delivery, hook, Sent("x"), start + timedelta(minutes=40), retry, policy)
    assert (hook.consecutive_failures, hook.failing_since, delivery.status) == (0, None, "sent")

    other = WebhookDelivery(status="queued", attempts=0)
    for minutes in (50, 80, 105):  # three in a row, but within the hour
        webhooks.record(other, hook, RetryLater("HTTP 503"), start + timedelta(minutes=minutes), retry, policy)
    assert (hook.status, other.status) == ("active", "queued")
    webhooks.record(other, hook, Failed("HTTP 404"), start + timedelta(minutes=111), retry, policy)
    assert (hook.status, hook.disabled_at, other.status) == ("disabled", start + timedelta(minutes=111), "failed")


def test_events_become_messages():
    assert triggers.local_time("2026-12-01T01:30:00Z") == "2026-12-01 09:30"
    assert triggers.local_time("2026-12-01T09:30:00+08:00") == "2026-12-01 09:30"
    declared = triggers.incident(
        "incident.declared",
        {
            "incident_id": "i",
            "estate_id": "e1",
            "kind": "water",
            "title": "停水",
            "description": "d",
            "expected_end": None,
            "severity": "critical",
        },
    )
    assert (declared.estate_ids, declared.critical, declared.variables["expected_end"]) == (("e1",), True, "另行通知")
    updated = triggers.incident(
        "incident.updated",
        {
            "title": "停水",
            "estate_id": "e1",
            "expected_end": "2026-12-01T10:00:00Z",
            "severity": "major",
            "update": "送水车已到 ",
        },
    )
    assert (updated.template, updated.critical, updated.variables["update"]) == (
        "incident.updated",
        False,
        "送水车已到。",
    )
    assert templates.render("incident.updated", **updated.variables) == (
        "进展：停水",
        "物业服务中心通知：送水车已到。预计恢复时间：2026-12-01 18:00。",
    )
    cancelled = triggers.activity_cancelled(
        {
            "title": "义诊",
            "starts_at": "2026-12-01T01:00:00Z",
            "reason": "下雨",
            "estate_ids": ["e1"],
            "recipients": [{"name": "王", "phone": "+8613800000001", "household": "1-1-101", "role": "volunteer"}],
        }
    )
    assert [(t.template, t.phone, t.role, t.variables["starts_at"]) for t in cancelled] == [
        ("activity.cancelled", "+8613800000001", "volunteer", "2026-12-01 09:00")
    ]
    escalated = triggers.case_escalated(
        {"case_id": "c1", "estate_id": "e1", "title": "漏水", "level": 2, "reason": "超时未办结"},
        [("+8613900000001", "刘经理"), ("+8613900000002", None)],
    )
    variables = {"title": "漏水", "level": 2, "reason": "超时未办结"}
    assert escalated == [
        triggers.Tell("case.escalated", "+8613900000001", "刘经理", "staff", variables),
        triggers.Tell("case.escalated", "+8613900000002", None, "staff", variables),
    ]
    assert triggers.case_escalated({"case_id": "c1", "level": 1, "reason": "r"}, []) == []
    assert [triggers.zh(r) for r in ("超时未办结 (SLA resolution breached)", "第2次重新打开 (reopened 2 times)")] == [
        "超时未办结",
        "第2次重新打开",
    ]
    assert triggers.zh("满意度低分 1 分") == "满意度低分 1 分"
    assert triggers.zh("业主要求（加急）") == "业主要求（加急）"
    overdue = {
        "visit_id": "v1",
        "case_id": "c1",
        "estate_id": "e1",
        "case_title": "漏水",
        "volunteer_id": "vol1",
        "volunteer_name": "甲",
        "volunteer_phone": "13800000001",
        "due_at": "2026-12-05T02:00:00Z",
        "reassigned_to": "vol2",
    }
    staff = [("+8613900000001", "刘经理")]
    assert triggers.visit_overdue(overdue, staff) == [
        triggers.Tell(
            "visit.overdue",
            "13800000001",
            "甲",
            "volunteer",
            {"title": "漏水", "due": "2026-12-05 10:00", "next": "已转给其他志愿者"},
        )
    ]
    left = triggers.visit_overdue(overdue | {"reassigned_to": None}, staff)
    assert [(t.template, t.phone, t.variables.get("next")) for t in left] == [
        ("visit.overdue", "13800000001", "已转由物业工作人员回访"),
        ("visit.left_for_staff", "+8613900000001", None),
    ]
    assert templates.render("visit.overdue", name="甲", **left[0].variables) == (
        "回访逾期：漏水",
        "甲您好，“漏水”的回访已逾期（应于2026-12-05 10:00前完成），已转由物业工作人员回访。",
    )
    assert templates.render("visit.left_for_staff", name="刘经理", **left[1].variables)[1] == (
        "刘经理您好，“漏水”的回访逾期且无志愿者可接，请安排工作人员回访。"
    )
    promoted = triggers.signup_promoted(
        {
            "title": "义诊",
            "place": "活动室",
            "starts_at": "2026-12-01T01:00:00Z",
            "resident": {"name": "王阿姨", "phone": "+8613912345602", "household": "1-1-102"},
        }
    )
    assert promoted == triggers.Tell(
        "activity.signup_promoted",
        "+8613912345602",
        "王阿姨",
        "resident",
        {"title": "义诊", "starts_at": "2026-12-01 09:00", "place": "活动室"},
    )
    assert templates.render("activity.signup_promoted", name="王阿姨", **promoted.variables) == (
        "候补成功：义诊",
        "王阿姨您好，“义诊”有了空位，您已由候补转为正式报名。时间：2026-12-01 09:00，地点：活动室。",
    )
    reminder = triggers.survey_link(
        {"recipient": {"phone": "+86138", "name": "陈"}, "case_title": "t", "link": "l", "reminder": True}, 7
    )
    assert reminder.template == "survey.reminder"


def test_the_log_channel_keeps_survey_tokens_out_of_info_logs(caplog):
    import logging

    from services.notifications.channels.base import Message, Recipient
    from services.notifications.channels.log import LogChannel

    message = Message(
        kind="survey.issued",
        recipient=Recipient(phone="+8613800000001"),
        subject="请评价",
        body="请点击 http://h/s/SECRETtoken_1 评价",
        params={"link": "http://h/s/SECRETtoken_1"},
        idempotency_key="d-1",
    )
    with caplog.at_level(logging.INFO, logger="lianxin.channel.log"):
        LogChannel().send(message)
    assert "SECRETtoken_1" not in caplog.text and "http://h/s/***" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="lianxin.channel.log"):
        LogChannel().send(message)
    assert [r.levelname for r in caplog.records if "SECRETtoken_1" in r.getMessage()] == ["DEBUG"]
