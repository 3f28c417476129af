"""The shape of a benchmark result: the figures, their targets, percentiles and the printed table.

Pure functions only, so the report's shape is unit tested without a stack.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The figures every results.json carries, numbers only; a figure not measured in a run is null.
KEYS = (
    "closures_per_s",
    "close_to_survey_p50_ms",
    "close_to_survey_p99_ms",
    "broadcast_10k_s",
    "post_cases_rps",
    "list_cases_p99_ms",
    "stats_1m_ms",
    "queue_p99_ms",
    "queue_sqlite_p99_ms",
    "raw_kombu_consume_per_s",
    "raw_kombu_publish_per_s",
    "nameko_hop_per_s",
    "closures_to_raw_ratio",
    "max_service_rss_mb",
)

# Issue 10's targets on a 2-core machine: (comparison, bound).
TARGETS: dict[str, tuple[str, float]] = {
    "closures_per_s": (">=", 300),
    "close_to_survey_p99_ms": ("<=", 250),
    "broadcast_10k_s": ("<=", 5),
    "post_cases_rps": (">=", 500),
    "list_cases_p99_ms": ("<=", 50),
    "stats_1m_ms": ("<=", 200),
    "queue_p99_ms": ("<=", 200),  # issue 16: GET /workbench at 100,000 cases of the company, PostgreSQL
    "max_service_rss_mb": ("<=", 150),
}

UNITS = {
    "closures_per_s": "/s",
    "close_to_survey_p50_ms": "ms",
    "close_to_survey_p99_ms": "ms",
    "broadcast_10k_s": "s",
    "post_cases_rps": "req/s",
    "list_cases_p99_ms": "ms",
    "stats_1m_ms": "ms",
    "queue_p99_ms": "ms",
    "queue_sqlite_p99_ms": "ms",
    "raw_kombu_consume_per_s": "msg/s",
    "raw_kombu_publish_per_s": "msg/s",
    "nameko_hop_per_s": "msg/s",
    "closures_to_raw_ratio": "",
    "max_service_rss_mb": "MB",
}


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between ranks (numpy's default).

    ``None`` for no values, and when the percentile falls on a missing sample (``inf``): a
    latency that never arrived has no number, and must not pass as a fast one.
    """
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    if math.isinf(ordered[high]):
        return None
    value = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return value


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator``, or None when either is unmeasured or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def rounded(value: Any) -> float | None:
    """A figure as results.json keeps it: a finite number (4 decimals below 1, else 1) or None."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value):
        return None
    return round(float(value), 4 if abs(value) < 1 else 1)


def figures(measured: Mapping[str, Any]) -> dict[str, float | None]:
    """Every key of :data:`KEYS`, numbers only, the ratio derived from the two rates."""
    out = {key: rounded(measured.get(key)) for key in KEYS}
    out["closures_to_raw_ratio"] = rounded(ratio(out["closures_per_s"], out["raw_kombu_consume_per_s"]))
    return out


def verdict(key: str, value: float | None) -> str:
    """'met', 'missed', '' (no target) or 'not measured'."""
    if key not in TARGETS:
        return ""
    if value is None:
        return "not measured"
    op, bound = TARGETS[key]
    ok = value >= bound if op == ">=" else value <= bound
    return "met" if ok else "missed"


def document(
    measured: Mapping[str, Any],
    machine: Mapping[str, Any],
    commit: str | None,
    notes: Mapping[str, str],
    details: Mapping[str, Any],
    settings: Mapping[str, Any],
    when: datetime | None = None,
) -> dict[str, Any]:
    """The results.json document: when, where, which code, the figures, and why any is null."""
    when = when or datetime.now(UTC)
    doc: dict[str, Any] = {
        "timestamp": when.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "git_commit": commit,
        "machine": dict(machine),
        "settings": dict(settings),
    }
    doc |= figures(measured)
    doc["notes"] = dict(notes)
    doc["details"] = dict(details)
    return doc


def table(doc: Mapping[str, Any]) -> str:
    """The printed table: each figure, its target and whether it is met."""
    head = f"{'figure':<26} {'value':>12} {'unit':<6} {'target':>10}  verdict"
    lines = [head, "-" * len(head)]
    for key in KEYS:
        value = doc.get(key)
        shown = "null" if value is None else (f"{value:.4f}" if abs(value) < 1 else f"{value:,.1f}")
        target = f"{TARGETS[key][0]} {TARGETS[key][1]:g}" if key in TARGETS else ""
        lines.append(f"{key:<26} {shown:>12} {UNITS[key]:<6} {target:>10}  {verdict(key, value)}")
    notes = doc.get("notes") or {}
    if notes:
        lines.append("")
        lines.extend(f"note: {key}: {text}" for key, text in notes.items())
    return "\n".join(lines)


def machine_info(extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What a reader needs to compare runs: CPU, memory, load at the start, versions."""
    info: dict[str, Any] = {
        "hostname": platform.node(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_total_mb"] = int(line.split()[1]) // 1024
                break
        info["loadavg_at_start"] = [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        pass
    info |= dict(extra or {})
    return info


def git_commit(root: Path) -> str | None:
    """HEAD, with ``-dirty`` when the tree has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "")


def write(doc: Mapping[str, Any], latest: Path, history_dir: Path) -> Path:
    """Write the latest result and a copy named by its timestamp (the plot's history)."""
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    latest.write_text(text)
    history_dir.mkdir(parents=True, exist_ok=True)
    stamp = str(doc["timestamp"]).replace(":", "").replace("-", "")
    copy = history_dir / f"{stamp}.json"
    copy.write_text(text)
    return copy
