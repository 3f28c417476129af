"""zh-CN message templates per kind of event and channel. A missing variable is an error, never a blank.

A template has a subject and a body; a channel may have its own, shorter body (SMS), else it
uses the default. Every render also gets the tenant's ``company`` and ``hotline`` (per-tenant
overrides, with neutral defaults). Email gets an HTML part rendered with autoescaping, so a
resident's own words (a case title) can never inject markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import Environment, StrictUndefined, Template

TEXT = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
HTML = Environment(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=False)

DEFAULT_COMPANY = "物业服务中心"
DEFAULT_HOTLINE = ""

HOTLINE = "{% if hotline %}咨询电话：{{ hotline }}{% endif %}"

TEMPLATES: dict[str, tuple[str, str]] = {
    "case.submitted": (
        "诉求已受理登记",
        "{{ name }}您好，您反映的“{{ title }}”已登记，我们会尽快处理。",
    ),
    "survey.issued": (
        "请评价本次服务",
        "{{ name }}您好，您反映的“{{ title }}”已办结。请点击链接评价本次服务：{{ link }}（{{ days }}天内有效）",
    ),
    "survey.reminder": (
        "提醒：请评价本次服务",
        "{{ name }}您好，您反映的“{{ title }}”已办结，您还没有评价。请点击链接评价：{{ link }}",
    ),
    "visit.scheduled.resident": (
        "回访预约",
        "{{ name }}您好，针对“{{ title }}”，{{ visitor }}将在{{ due }}前对您进行回访。",
    ),
    "visit.scheduled.volunteer": (
        "新的回访任务",
        "{{ name }}您好，请在{{ due }}前回访{{ household }}住户，事项：“{{ title }}”。",
    ),
    "activity.published": (
        "社区活动：{{ title }}",
        "{{ company }}通知：{{ starts_at }}在{{ place }}举办“{{ title }}”，欢迎参加。" + HOTLINE,
    ),
    "activity.cancelled": (
        "活动取消：{{ title }}",
        "{{ name }}您好，原定{{ starts_at }}的“{{ title }}”已取消（{{ reason }}），敬请谅解。",
    ),
    "activity.signup_promoted": (
        "候补成功：{{ title }}",
        "{{ name }}您好，“{{ title }}”有了空位，您已由候补转为正式报名。时间：{{ starts_at }}，地点：{{ place }}。",
    ),
    "incident.declared": (
        "{{ title }}",
        "{{ company }}紧急通知：{{ description }}预计恢复时间：{{ expected_end }}。" + HOTLINE,
    ),
    "incident.updated": (
        "进展：{{ title }}",
        "{{ company }}通知：{{ update }}预计恢复时间：{{ expected_end }}。" + HOTLINE,
    ),
    "incident.resolved": (
        "已恢复：{{ title }}",
        "{{ company }}通知：“{{ title }}”已处理完毕，感谢您的理解与配合。" + HOTLINE,
    ),
    "notice": (
        "{{ title }}",
        "{{ company }}通知：{{ body }}",
    ),
    "case.escalated": (
        "督办：{{ title }}",
        "{{ name }}您好，诉求“{{ title }}”已升级为第{{ level }}级督办（{{ reason }}），请尽快处理并反馈。",
    ),
    "visit.overdue": (
        "回访逾期：{{ title }}",
        "{{ name }}您好，“{{ title }}”的回访已逾期（应于{{ due }}前完成），{{ next }}。",
    ),
    "visit.left_for_staff": (
        "回访待安排：{{ title }}",
        "{{ name }}您好，“{{ title }}”的回访逾期且无志愿者可接，请安排工作人员回访。",
    ),
}

# Shorter bodies where a channel charges per character.
CHANNEL_BODIES: dict[tuple[str, str], str] = {
    ("incident.declared", "aliyun_sms"): "{{ company }}紧急通知：{{ title }}，预计{{ expected_end }}恢复。",
    ("incident.declared", "tencent_sms"): "{{ company }}紧急通知：{{ title }}，预计{{ expected_end }}恢复。",
}

EMAIL_HTML = (
    '<html><body><h3>{{ subject }}</h3><p>{{ body }}</p><p style="color:#666">{{ company }}'
    "{% if hotline %} · {{ hotline }}{% endif %}</p></body></html>"
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    html: str | None = None


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool = False) -> Template:
    return (HTML if html else TEXT).from_string(source)


def known(key: str) -> bool:
    return key in TEMPLATES


def render(key: str, **variables: object) -> tuple[str, str]:
    """Subject and body of template ``key``; raises jinja2.UndefinedError on a missing variable."""
    rendered = render_for(key, "inapp", variables)
    return rendered.subject, rendered.body


def render_for(
    key: str, channel: str, variables: Mapping[str, object], tenant: Mapping[str, object] | None = None
) -> Rendered:
    """The message of template ``key`` as channel ``channel`` sends it, with tenant overrides."""
    values = {"company": DEFAULT_COMPANY, "hotline": DEFAULT_HOTLINE, **(tenant or {}), **variables}
    subject_source, body_source = TEMPLATES[key]
    subject = _compiled(subject_source).render(**values)
    body = _compiled(CHANNEL_BODIES.get((key, channel), body_source)).render(**values)
    html = (
        _compiled(EMAIL_HTML, html=True).render(**(values | {"subject": subject, "body": body}))
        if channel == "email"
        else None
    )
    return Rendered(subject, body, html)


def params_of(variables: Mapping[str, object], tenant: Mapping[str, object] | None = None) -> dict[str, str]:
    """Template parameters for providers that send a template code plus values (SMS, WeChat)."""
    values = {"company": DEFAULT_COMPANY, "hotline": DEFAULT_HOTLINE, **(tenant or {}), **variables}
    return {key: str(value) for key, value in values.items() if value is not None}
