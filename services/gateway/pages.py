"""Server-rendered pages (zh-CN, no JavaScript needed): the survey page and the API docs."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from services.common.phones import mask_phone

ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "pages"),
    autoescape=select_autoescape(["html"]),
)
ENV.filters["mask_phone"] = mask_phone  # 138****8000: the people pages never print a whole number

LABELS = {
    "score": "总体满意度",
    "speed": "响应速度",
    "attitude": "服务态度",
    "quality": "处理质量",
    "nps": "推荐意愿",
    "ces": "办事费劲程度",
    "solved": "是否解决",
    "comment": "意见建议",
}

MESSAGES = {
    "answered": ("您已评价", "这份问卷已经填写过了，感谢您的反馈。"),
    "expired": ("问卷已过期", "这份问卷已过有效期，如需反映问题请联系物业服务中心。"),
    "voided": ("问卷已作废", "该事项已重新办理，办结后我们会再次请您评价。"),
    "missing": ("问卷不存在", "链接无效，请检查短信或消息中的链接是否完整。"),
    "own_company": ("不能评价", "您是该物业公司的工作人员，不能为本公司办理的事项评价。"),
    "thanks": ("感谢您的评价", "您的评价已提交，我们会持续改进服务。"),
    "forbidden": ("评价未提交", "页面已过期或来源不明，您的评价没有提交。请重新打开短信或消息中的链接再评价。"),
}


def survey_page(state: str, survey: dict | None = None, errors: dict | None = None, csrf: str | None = None) -> str:
    """``state`` is form, or one of MESSAGES' keys; ``csrf`` is the form's token (the session's, or the
    browser's double-submit token; see routes/surveys.py)."""
    heading, message = MESSAGES.get(state, ("满意度评价", ""))
    if state == "form":
        heading = "满意度评价"
    return ENV.get_template("survey.html").render(
        state=state,
        survey=survey or {},
        heading=heading,
        message=message,
        errors=errors or {},
        labels=LABELS,
        csrf=csrf,
    )


def docs_page(spec: dict) -> str:
    return ENV.get_template("docs.html").render(spec=spec)
