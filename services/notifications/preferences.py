"""Which channels one message goes out on, for one person: preferences, addresses, urgency.

The in-app inbox always gets the message (it is the record and disturbs nobody). A push
channel is used when the person can be reached on it and, unless the message is critical,
when their preferences for this kind of message allow it; otherwise the delivery is recorded
as ``suppressed``. Quiet hours hold back the channels that buzz a phone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from services.notifications.quiet_hours import QuietHours, release_time

INAPP = "inapp"
# Channels that reach a person's phone or mailbox at once; the log channel stands in for them in
# development but disturbs nobody, so it is not held by quiet hours.
DISTURBING = frozenset({"aliyun_sms", "tencent_sms", "wechat", "email"})
KINDS = ("case", "survey", "visit", "activity", "incident", "notice")


def kind_of(message_kind: str) -> str:
    """The kind of message preferences are given for: ``survey.issued`` → ``survey``."""
    return message_kind.split(".", 1)[0]


@dataclass(frozen=True)
class Reach:
    """The addresses a person has (a phone always)."""

    email: str | None = None
    wechat_openid: str | None = None


@dataclass(frozen=True)
class Planned:
    channel: str
    status: str  # queued | suppressed
    not_before: datetime


def reachable(channel: str, reach: Reach) -> bool:
    if channel == "email":
        return bool(reach.email)
    if channel == "wechat":
        return bool(reach.wechat_openid)
    return True


def plan(
    message_kind: str,
    enabled: Sequence[str],
    reach: Reach,
    preferences: Mapping[str, Sequence[str]] | None,
    quiet: QuietHours,
    critical: bool,
    now: datetime,
) -> list[Planned]:
    """One :class:`Planned` per channel to record, in-app first."""
    wanted = (preferences or {}).get(kind_of(message_kind))
    later = release_time(now, quiet, critical)
    planned = [Planned(INAPP, "queued", now)]
    for channel in enabled:
        if channel == INAPP or not reachable(channel, reach):
            continue
        if not critical and wanted is not None and channel not in wanted:
            planned.append(Planned(channel, "suppressed", now))
        else:
            planned.append(Planned(channel, "queued", later if channel in DISTURBING else now))
    return planned
