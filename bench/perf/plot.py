"""``python -m bench.perf.plot``: each figure over time, from the result files in bench/results/."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from bench.perf.report import KEYS, TARGETS, UNITS

RESULTS = Path(__file__).resolve().parent.parent / "results"


def history(directory: Path) -> list[dict]:
    """Every readable result file, oldest first."""
    docs = []
    for path in sorted(directory.glob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except ValueError:
            continue
        if isinstance(doc, dict) and "timestamp" in doc:
            docs.append(doc)
    return sorted(docs, key=lambda d: d["timestamp"])


def series(docs: list[dict], key: str) -> tuple[list[datetime], list[float]]:
    """(times, values) of one figure, skipping the runs that did not measure it."""
    points = [
        (datetime.fromisoformat(d["timestamp"].replace("Z", "+00:00")), d[key])
        for d in docs
        if isinstance(d.get(key), int | float)
    ]
    return [t for t, _ in points], [v for _, v in points]


def plot(docs: list[dict], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = 3
    rows = -(-len(KEYS) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5 * columns, 2.8 * rows), squeeze=False)
    for ax, key in zip(axes.flat, KEYS, strict=False):
        times, values = series(docs, key)
        ax.plot(times, values, marker="o")
        if key in TARGETS:
            ax.axhline(TARGETS[key][1], color="tab:red", linestyle="--", linewidth=1, label="target")
            ax.legend(loc="best", fontsize=7)
        ax.set_title(f"{key} ({UNITS[key]})" if UNITS[key] else key, fontsize=9)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(KEYS) :]:
        ax.axis("off")
    fig.suptitle(f"make bench: {len(docs)} runs")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.perf.plot", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--out", type=Path, default=None, help="PNG to write (default: RESULTS/history.png)")
    args = parser.parse_args(argv)
    docs = history(args.results)
    if not docs:
        print(f"no result files in {args.results}", file=sys.stderr)
        return 1
    out = plot(docs, args.out or args.results / "history.png")
    print(f"{out}: {len(docs)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
