"""CPU seconds each service process used: a cost per closure that a busy machine does not distort.

On a shared machine the services wait for a core as long as they work, so wall-clock rates
move with the neighbours' load; the CPU time a closure costs each service barely does.
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process (from /proc/PID/stat); None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def snapshot(pids: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds per service, summed over its live processes."""
    return {name: sum(filter(None, (cpu_seconds(pid) for pid in service_pids))) for name, service_pids in pids.items()}


def per_item_ms(before: dict[str, float], after: dict[str, float], items: int) -> dict[str, float]:
    """Milliseconds of CPU per item for each service between two snapshots (and their total)."""
    if items <= 0:
        return {}
    costs = {name: round(1000 * (after[name] - before.get(name, 0.0)) / items, 2) for name in after}
    costs["total"] = round(sum(costs.values()), 2)
    return costs
