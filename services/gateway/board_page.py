"""The public estate board page (向业主晒事): zh-CN, mobile-first, no JavaScript, autoescaped.

It is built from the board JSON, which never carries a reporter's name or phone and gives
the household as its building only; this page shows nothing more than that JSON.
"""

from __future__ import annotations

from datetime import datetime

from services.common.fields import SHANGHAI
from services.gateway.pages import ENV

STATUS = {"resolved": "已办结", "closed": "已办结 · 已回访"}


def _day(text: str | None) -> str:
    if not text:
        return ""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(SHANGHAI)
    return f"{moment.year}年{moment.month}月{moment.day}日"


def _duration(hours: float | None) -> str:
    if hours is None:
        return ""
    if hours < 1:
        return "不到 1 小时"
    if hours < 48:
        return f"{hours:g} 小时"
    return f"{hours / 24:.1f} 天"


def board_page(board: dict | None, invalid: bool = False, missing: bool = False) -> str:
    """The estate's board; ``invalid`` for an unreadable query, ``missing`` for an unknown estate."""
    items = [
        {
            "title": entry["title"],
            "category": entry["category_name"],
            "building": entry["building"],
            "status": STATUS.get(entry["status"], entry["status"]),
            "resolved_on": _day(entry["resolved_at"]),
            "took": _duration(entry["hours_to_resolve"]),
            "resolution": entry["resolution"],
            "satisfaction": entry["satisfaction"],
            "photos": [photo["url"] for photo in entry.get("photos", [])],  # published ones only
        }
        for entry in (board or {}).get("data", [])
    ]
    last = (board or {}).get("data", [])[-1]["case_id"] if board and board.get("has_more") else None
    return ENV.get_template("board.html").render(board=board, items=items, invalid=invalid, missing=missing, next=last)
