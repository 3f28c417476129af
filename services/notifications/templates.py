"""zh-CN message templates per kind of event. A missing variable is an error, never a blank."""

from __future__ import annotations

from jinja2 import Environment, StrictUndefined

ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)

TEMPLATES: dict[str, tuple[str, str]] = {
    "case.submitted": (
        "诉求已受理登记",
        "{{ name }}您好，您反映的“{{ title }}”已登记，我们会尽快处理。",
    ),
    "survey.issued": (
        "请评价本次服务",
        "{{ name }}您好，您反映的“{{ title }}”已办结。请点击链接评价本次服务：{{ link }}（{{ days }}天内有效）",
    ),
    "visit.scheduled.resident": (
        "回访预约",
        "{{ name }}您好，针对“{{ title }}”，{{ visitor }}将在{{ due }}前对您进行回访。",
    ),
    "visit.scheduled.volunteer": (
        "新的回访任务",
        "{{ name }}您好，请在{{ due }}前回访{{ household }}住户，事项：“{{ title }}”。",
    ),
}


def render(key: str, **variables: object) -> tuple[str, str]:
    """Subject and body of template ``key``; raises jinja2.UndefinedError on a missing variable."""
    subject, body = TEMPLATES[key]
    return ENV.from_string(subject).render(**variables), ENV.from_string(body).render(**variables)
