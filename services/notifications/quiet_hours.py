"""Quiet hours: when a non-urgent message that would buzz a phone waits until morning.

Pure functions of ``now`` (naive UTC, like every stored time), so tests freeze time freely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_START = "22:00"
DEFAULT_END = "07:00"
DEFAULT_TIMEZONE = "Asia/Shanghai"


def parse_clock(value: str) -> time:
    """ "22:00" → time(22, 0); raises ValueError on anything else."""
    hours, _, minutes = value.partition(":")
    if len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        raise ValueError(f"not a HH:MM time: {value!r}")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class QuietHours:
    """A daily window in a local time zone; start == end means no quiet hours at all."""

    start: str = DEFAULT_START
    end: str = DEFAULT_END
    timezone: str = DEFAULT_TIMEZONE

    def ends_after(self, now: datetime) -> datetime | None:
        """When the window ``now`` falls in ends (naive UTC), or None when ``now`` is not quiet."""
        start, end = parse_clock(self.start), parse_clock(self.end)
        if start == end:
            return None
        zone = ZoneInfo(self.timezone)
        local = now.replace(tzinfo=UTC).astimezone(zone)
        clock = local.time()
        if start < end:  # e.g. 12:00–14:00, within one day
            quiet = start <= clock < end
            end_day = local.date()
        else:  # e.g. 22:00–07:00, across midnight
            quiet = clock >= start or clock < end
            end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
        if not quiet:
            return None
        ends = datetime.combine(end_day, end, tzinfo=zone)
        return ends.astimezone(UTC).replace(tzinfo=None)


def release_time(now: datetime, quiet: QuietHours, critical: bool) -> datetime:
    """When a message may go out: now, or the end of quiet hours; emergencies never wait."""
    if critical:
        return now
    return quiet.ends_after(now) or now
