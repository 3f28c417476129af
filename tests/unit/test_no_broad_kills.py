"""No code of ours kills processes by name or reconfigures the machine's RabbitMQ: RabbitMQ and
PostgreSQL on a machine are shared, and the harness's faults target its own processes by pid."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
BY_NAME = ("p" + "kill", "kill" + "all")  # spelled in pieces, so this file is not a hit of its own search


def sources() -> list[Path]:
    return [
        path
        for top in ("bench", "services", "tests/support")  # tests/support: the harness's process stack
        for path in sorted((ROOT / top).rglob("*"))
        if path.is_file() and path.suffix != ".md" and "__pycache__" not in path.parts
    ]


def test_nothing_kills_by_name():
    found = [
        f"{path.relative_to(ROOT)}: {word}"
        for path in sources()
        for word in BY_NAME
        if word in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert sources() and found == []


def test_the_harness_sets_a_broker_watermark_only_through_its_own_node():
    found = [
        str(path.relative_to(ROOT))
        for path in sources()
        if "set_vm_memory_high_watermark" in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert found == ["bench/rabbit_node.py"]
