"""Incidents and broadcasts at the workbench, in words: kinds, states, forms → the API's payloads.

Nothing here decides anything: the requests service validates an incident and says whether it
may still change, the notifications service plans and counts a broadcast. These functions turn
a form into the payload the API takes and the services' answers into words for staff.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from services.gateway import pages

KIND_NAMES = {
    "water_outage": "停水",
    "power_outage": "停电",
    "gas_outage": "停气",
    "elevator": "电梯故障",
    "flooding": "水浸",
    "fire": "火情",
    "other": "其他",
}
INCIDENT_STATES = {"declared": "进行中", "resolved": "已解除"}
SEVERITY_NAMES = {"normal": "一般", "critical": "紧急（免打扰时段也发送）"}
BROADCAST_KINDS = {
    "incident.declared": "事件通知",
    "incident.updated": "事件进展",
    "incident.resolved": "事件解除",
    "notice": "通知",
    "activity.published": "活动通知",
}
BROADCAST_STATES = {"sending": "发送中", "done": "已发完"}
CHANNEL_NAMES = {"inapp": "站内信", "log": "日志（开发环境）", "email": "邮件", "aliyun_sms": "短信（阿里云）",
                 "tencent_sms": "短信（腾讯云）", "wechat": "微信"}  # fmt: skip
DELIVERY_STATES = {"queued": "排队中", "sent": "已发送", "delivered": "已送达", "failed": "失败",
                   "suppressed": "未发送（住户未选此渠道）"}  # fmt: skip
REFRESH_SECONDS = 5  # a broadcast of 7,000 households takes well under a minute: watch it move
#: marshmallow's own English messages, for a person (the services' own messages are Chinese already).
GENERIC = {
    "Missing data for required field.": "必填",
    "Shorter than minimum length 1.": "请至少选择或填写一项",
    "Length must be between 1 and 200.": "请至少选择或填写一项（一次最多 200 个）",
    "Not a valid datetime.": "请填写正确的日期和时间",
    "Must be one of": "请从列表中选择",
    "Unknown field.": "无效的字段",
    "Not a valid integer.": "请填写整数",
    "Not a valid date.": "请填写正确的日期",
    "Must be greater than or equal to": "数值太小",
    "Must be less than or equal to": "数值太大",
    "Not a valid phone": "请填写正确的手机号",
}
#: Anything between case ids a person may type: spaces, commas (either width), 、 and new lines.
SEPARATORS = re.compile(r"[\s,，、;；]+")


def in_words(errors: Mapping[str, str]) -> dict[str, str]:
    """Field errors (already one line each) with marshmallow's English put in Chinese."""
    said = {}
    for name, message in errors.items():
        said[name] = next((zh for en, zh in GENERIC.items() if message.startswith(en)), message)
    return said


def incident_payload(form: Mapping[str, str]) -> dict:
    """The declare form → ``POST /api/v1/incidents``'s body (an expected end without an offset is
    read by the service as Asia/Shanghai, which is what the page's datetime-local field sends)."""
    return {
        "estate_id": form.get("estate_id", ""),
        "kind": form.get("kind", ""),
        "title": form.get("title", ""),
        "description": form.get("description", ""),
        "severity": form.get("severity") or "normal",
        "expected_end": form.get("expected_end", "").strip() or None,
    }


def update_payload(form: Mapping[str, str]) -> dict:
    return {"body": form.get("body", ""), "expected_end": form.get("expected_end", "").strip() or None}


def case_ids(chosen: list[str], typed: str) -> list[str]:
    """The cases to merge: those ticked in the list, then those typed by id, each once, in order."""
    return list(dict.fromkeys([*chosen, *(part for part in SEPARATORS.split(typed) if part)]))


def broadcast_payload(form: Mapping[str, str]) -> dict:
    """The compose form → ``POST /api/v1/broadcasts``'s body. The form's own key makes a double
    submit (a second click, a reload) one broadcast, not two."""
    return {
        "estate_id": form.get("estate_id", ""),
        "building": form.get("building", "").strip() or None,
        "title": form.get("title", ""),
        "body": form.get("body", ""),
        "severity": form.get("severity") or "normal",
        "idempotency_key": form.get("key") or None,
    }


def share(done: int, total: int) -> int:
    """Percent of ``total`` for the progress bar (0 when nobody is to be told)."""
    return round(100 * done / total) if total else 0


pages.ENV.globals.update(
    incident_kinds=KIND_NAMES,
    incident_states=INCIDENT_STATES,
    severity_names=SEVERITY_NAMES,
    broadcast_kinds=BROADCAST_KINDS,
    broadcast_states=BROADCAST_STATES,
    channel_names=CHANNEL_NAMES,
    delivery_states=DELIVERY_STATES,
)
pages.ENV.filters["share"] = share
