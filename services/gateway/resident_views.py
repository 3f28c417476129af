"""What the resident pages show, shaped from the services' answers (zh-CN labels, Shanghai times).

Nothing here decides anything: which step a case has reached is what its history says, the
waiting-list place is what the volunteers service counted, whether a survey is due is what
the surveys service answered. This module only puts those answers into words a resident reads.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from services.common.fields import SHANGHAI
from services.gateway.calendar_page import KINDS, WEEKDAYS

STATUS = {
    "submitted": "已提交",
    "accepted": "已受理",
    "assigned": "已派单",
    "in_progress": "处理中",
    "waiting_resident": "待您回复",
    "resolved": "已办结",
    "closed": "已结案",
    "reopened": "重新办理",
    "merged": "并入事件处理",
    "cancelled": "已撤销",
}
#: The badge class of each status (people.css: open, done, late).
BADGE = {"resolved": "done", "closed": "done", "cancelled": "", "waiting_resident": "late"}
#: The progress a resident follows, in order: (state, label).
STEPS = (
    ("submitted", "提交"),
    ("accepted", "受理"),
    ("assigned", "派单"),
    ("in_progress", "处理中"),
    ("resolved", "办结"),
    ("closed", "结案"),
)
VISIT = {"scheduled": "志愿者回访已安排", "completed": "志愿者已回访", "cancelled": "回访已取消"}
OUTCOME = {"satisfied": "满意", "unsatisfied": "不满意，已重新办理", "unreachable": "未联系上"}
CHOICE = {"support": "赞成", "oppose": "反对", "abstain": "弃权"}
RESULT = {"passed": "通过", "rejected": "未通过", "no_votes": "无人投票"}
SIGNUP = {"confirmed": "已报名", "waiting": "候补中"}


def when(text: str | None) -> str:
    """ "2026-12-02T01:30:00.000000Z" → "12月2日 09:30" (Asia/Shanghai)."""
    if not text:
        return ""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(SHANGHAI)
    return f"{moment.month}月{moment.day}日 {moment:%H:%M}"


def day(text: str) -> str:
    """ "2026-12-02" → "12月2日 周三"."""
    moment = date.fromisoformat(text)
    return f"{moment.month}月{moment.day}日 {WEEKDAYS[moment.weekday()]}"


LINK = re.compile(r"https?://[^\s（）()<>\"'，。]+")


def linked(text: str) -> list[tuple[str, bool]]:
    """A message as (piece, is_link) pieces: its http(s) links become tappable, the rest stays text.

    Messages put a link right before Chinese punctuation (no space), which jinja's ``urlize``
    would swallow into the link; so links end at whitespace or CJK punctuation here.
    """
    pieces: list[tuple[str, bool]] = []
    last = 0
    for found in LINK.finditer(text):
        if found.start() > last:
            pieces.append((text[last : found.start()], False))
        pieces.append((found.group(0), True))
        last = found.end()
    if last < len(text):
        pieces.append((text[last:], False))
    return pieces


def timeline(history: list[dict]) -> list[dict]:
    """The six steps, each reached or not with its time, since the case was last reopened.

    A reopened case starts over from 受理 (its 提交 stays); a step is reached when the history
    shows the case entering that state after the latest reopen.
    """
    since = 0
    for n, entry in enumerate(history):
        if entry["to_status"] == "reopened":
            since = n
    reached: dict[str, str] = {}
    for n, entry in enumerate(history):
        if entry["to_status"] == "submitted" or n >= since:
            reached[entry["to_status"]] = entry["at"]
    return [{"label": label, "reached": state in reached, "when": when(reached.get(state))} for state, label in STEPS]


def case_card(case: dict) -> dict:
    """A case in a list: title, estate, status in words, when it was reported."""
    return {
        "id": case["id"],
        "title": case["title"],
        "estate": case.get("estate_name", ""),
        "category": case.get("category_name", case["category"]),
        "status": STATUS.get(case["status"], case["status"]),
        "badge": BADGE.get(case["status"], "open"),
        "created": when(case["created_at"]),
    }


def replies(comments: list[dict]) -> list[dict]:
    """The case's public comments: staff's replies and the resident's own, oldest first."""
    return [
        {
            "mine": comment["author_role"] == "resident",
            "who": "我" if comment["author_role"] == "resident" else "物业服务中心",
            "body": comment["body"],
            "when": when(comment["created_at"]),
        }
        for comment in comments
    ]


def visit_state(visits: list[dict]) -> str:
    """The latest follow-up visit in words, or "" when none was arranged."""
    if not visits:
        return ""
    visit = visits[-1]
    text = VISIT.get(visit["status"], "志愿者回访")
    if visit["status"] == "scheduled" and visit.get("due_at"):
        text += f"（{when(visit['due_at'])} 前）"
    if visit["status"] == "completed" and visit.get("outcome"):
        text += f"：{OUTCOME.get(visit['outcome'], visit['outcome'])}"
    return text


def activity_item(activity: dict, mine: dict | None) -> dict:
    """An activity of the week with the household's own sign-up (and its waiting-list place)."""
    return {
        "id": activity["id"],
        "title": activity["title"],
        "kind": KINDS.get(activity["kind"], "活动"),
        "when": f"{when(activity['starts_at'])}–{when(activity['ends_at'])[-5:]}",
        "place": activity["place"],
        "cancelled": activity["status"] == "cancelled",
        "reason": activity.get("cancel_reason"),
        "left": max(activity["capacity"] - activity["confirmed"], 0),
        "waiting": activity["waiting"],
        "mine": mine,
        "mine_status": SIGNUP.get(mine["status"], "") if mine else "",
    }


def proposal_item(proposal: dict) -> dict:
    """A proposal in words; the tally only once the vote has closed (no running score to sway votes)."""
    closed = proposal["status"] == "closed"
    return {
        "id": proposal["id"],
        "title": proposal["title"],
        "description": proposal["description"],
        "closes": when(proposal["closes_at"]),
        "closed": closed,
        "outcome": RESULT.get(proposal.get("outcome") or "", "") if closed else "",
        "tally": [(CHOICE[c], proposal["tally"].get(c, 0)) for c in CHOICE] if closed else [],
    }
