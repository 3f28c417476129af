"""Peak resident memory of each service process (the kernel's high-water mark, VmHWM)."""

from __future__ import annotations

from pathlib import Path


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM of a live process in MB; None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


class PeakRss:
    """Keeps the highest peak seen per service across samples (processes may be restarted)."""

    def __init__(self) -> None:
        self.peaks: dict[str, float] = {}

    def sample(self, pids: dict[str, list[int]]) -> None:
        for name, service_pids in pids.items():
            for pid in service_pids:
                peak = peak_rss_mb(pid)
                if peak is not None:
                    self.peaks[name] = max(self.peaks.get(name, 0.0), peak)

    def max_mb(self) -> float | None:
        return max(self.peaks.values(), default=None)
