"""docs/events.md is the event contract people read: it must say what the code does."""

import re
from pathlib import Path

import pytest

from services.common import topology
from services.common.config import SERVICES

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| ([a-z_]+\.[a-z_]+) \| ([a-z]+) \| ([a-z, —-]+) \|", re.M)
EMIT = re.compile(r"emit\(\s*session,\s*\"([a-z_]+\.[a-z_]+)\"")


def documented() -> dict[str, tuple[str, set[str]]]:
    text = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    rows = {}
    for event_type, producer, consumers in ROW.findall(text):
        rows[event_type] = (producer, {c.strip() for c in consumers.split(",") if c.strip() not in ("—", "-", "")})
    return rows


def test_each_documented_event_lists_exactly_the_services_that_consume_it():
    declared: dict[str, tuple[set[str], set[str]]] = {}
    for sub in topology.all_subscriptions():
        producers, consumers = declared.setdefault(sub.event_type, (set(), set()))
        producers.add(sub.source_service)
        consumers.add(sub.service)
    rows = documented()
    assert {t: ({p}, c) for t, (p, c) in rows.items() if t in declared} == declared
    assert set(declared) <= set(rows), f"consumed but not documented: {sorted(set(declared) - set(rows))}"


def test_every_event_a_service_emits_by_name_is_documented_with_its_producer():
    rows = documented()
    for service in SERVICES:
        for path in (ROOT / "services" / service).rglob("*.py"):
            for event_type in EMIT.findall(path.read_text(encoding="utf-8")):
                assert event_type in rows, f"{path.name} emits {event_type}, missing from docs/events.md"
                assert rows[event_type][0] == service, f"{event_type} is emitted by {service}"
