"""The workbench's settings in words: forms → the API's payloads, the services' answers → Chinese.

Nothing here decides a setting: the requests service validates a category and its SLA hours,
the notifications service the quiet hours and a webhook's URL (the address policy of
``webhook_targets``), the surveys service the survey timing, ``routes/keys.py``'s schema a key.
These functions only turn a form's text into the payload the API takes (a number typed as a
number, anything else passed on for the service to refuse with its own message) and put the
services' messages in words for an admin.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.gateway import pages
from services.gateway.workbench import number
from services.gateway.workbench_incidents import in_words

#: The settings sub-nav: (path under /workbench/settings, name), shared by every settings page.
TABS = (
    ("staff", "人员"),
    ("categories", "案件类别"),
    ("notifications", "通知"),
    ("surveys", "回访评价"),
    ("keys", "API 密钥"),
    ("webhooks", "Webhook"),
    ("actions", "操作记录"),
)
KEY_ROLES = {"company_admin": "管理员（可管理密钥、Webhook 与设置）", "company_staff": "员工（办理案件）",
             "resident_app": "住户应用（平台签发）"}  # fmt: skip
WEBHOOK_EVENTS = {"case.submitted": "新案件", "case.status_changed": "案件状态变化", "case.closed": "案件结案",
                  "survey.answered": "评价已提交", "survey.answer_voided": "评价作废"}  # fmt: skip
WEBHOOK_STATES = {"active": "启用", "disabled": "已停用（连续失败）"}
HOOK_DELIVERY_STATES = {"queued": "排队中", "sent": "已送达", "failed": "失败"}
#: The services' English messages for the settings' fields, for a person (matched by their start).
WORDS = {
    "Field may not be null.": "必填",
    "Not a valid number.": "请填写数字",
    "Not a valid integer.": "请填写整数",
    "Must be greater than or equal to": "超出允许范围",
    "Length must be between": "长度不符合要求",
    "Longer than maximum length": "内容过长",
    "must not be shorter than response_hours": "办结时限不能短于响应时限",
    "must be http(s) to a public address": "只能是 http(s) 的公网地址，且不能含用户名或密码",
    "Not a valid URL.": "请填写完整的网址，如 https://example.com/hooks",
    "String does not match expected pattern.": "只能用小写字母、数字、下划线或连字符",
    "unknown time zone": "未知的时区",
    "应形如": "应形如 100/second 或 100/second;2000/minute",
}


def said(errors: Mapping[str, str]) -> dict[str, str]:
    """Field errors (one line each) in Chinese: the settings' words first, then the shared ones."""
    first = {name: next((zh for en, zh in WORDS.items() if message.startswith(en)), message)
             for name, message in errors.items()}  # fmt: skip
    return in_words(first)


def sla_errors(errors: Mapping[str, object]) -> dict:
    """``{"sla": {"normal": {"value": {"response_hours": [...]}}}}`` (marshmallow's shape for a Dict
    field's value) → the form's ``response_hours`` field."""
    flat = {name: messages for name, messages in errors.items() if name != "sla"}
    for per_priority in (errors.get("sla") or {}).values():
        hours = per_priority.get("value", per_priority) if isinstance(per_priority, dict) else {}
        for field, messages in hours.items():
            flat[field if field in ("response_hours", "resolution_hours") else "sla"] = messages
    return flat


def category_payload(form: Mapping[str, str], current: Mapping | None = None) -> dict:
    """The add or change form → ``POST /api/v1/case-categories``'s body. A change keeps the
    category's name, state and team as they are and sets its normal-priority hours (the other
    priorities keep theirs, as the API says)."""
    hours = {"response_hours": number(form.get("response_hours")),
             "resolution_hours": number(form.get("resolution_hours"))}  # fmt: skip
    if current is not None:
        return {"code": current["code"], "name": current["name"], "active": current["active"],
                "team": current["team"], "sla": {"normal": hours}}  # fmt: skip
    return {"code": form.get("code", "").strip(), "name": form.get("name", "").strip(),
            "team": form.get("team", "").strip() or None, "sla": {"normal": hours}}  # fmt: skip


def notification_payload(form: Mapping[str, str]) -> dict:
    """The form → ``PUT /api/v1/notification-settings``'s body (empty fields: not set)."""
    return {
        "company_name": form.get("company_name", "").strip() or None,
        "hotline": form.get("hotline", "").strip() or None,
        "quiet_hours": {
            "start": form.get("quiet_start", "").strip(),
            "end": form.get("quiet_end", "").strip(),
            "timezone": form.get("timezone", "").strip() or "Asia/Shanghai",
        },
    }


def quiet_errors(errors: Mapping[str, object]) -> dict:
    """``quiet_hours.start`` etc. → the form's ``quiet_start``, ``quiet_end``, ``timezone``."""
    flat = {name: messages for name, messages in errors.items() if name != "quiet_hours"}
    quiet = errors.get("quiet_hours")
    if isinstance(quiet, dict):
        for field, messages in quiet.items():
            flat[{"start": "quiet_start", "end": "quiet_end"}.get(field, field)] = messages
    elif quiet:
        flat["quiet_start"] = quiet
    return flat


SURVEY_FIELDS = ("link_delay_minutes", "expiry_days", "reminder_after_hours")


def survey_payload(form: Mapping[str, str]) -> dict:
    """The form → ``PUT /api/v1/survey-settings``'s body: every field, as numbers where typed so."""
    return {name: number(form.get(name)) for name in SURVEY_FIELDS}


def key_payload(form: Mapping[str, str]) -> dict:
    """The form → ``POST /api/v1/keys``'s body."""
    return {"role": form.get("role", ""), "rate_limit": form.get("rate_limit", "").strip() or None}


def webhook_payload(form: Mapping[str, list[str]] | object) -> dict:
    """The form (a MultiDict: one checkbox per event) → ``POST /api/v1/webhooks``'s body."""
    return {"url": form.get("url", "").strip(), "event_types": form.getlist("event_types")}  # type: ignore[attr-defined]


def last_delivery(webhook: Mapping) -> dict | None:
    """The newest of a webhook's recent deliveries (the service lists them newest first)."""
    recent = webhook.get("recent_deliveries") or []
    return recent[0] if recent else None


pages.ENV.globals.update(
    settings_tabs=TABS,
    key_roles=KEY_ROLES,
    webhook_events=WEBHOOK_EVENTS,
    webhook_states=WEBHOOK_STATES,
    hook_delivery_states=HOOK_DELIVERY_STATES,
)
pages.ENV.filters["last_delivery"] = last_delivery
