"""The SLA timer with two instances on one database (SQLite or PostgreSQL): scanning at the
same moment, each breach is reported once, and the case shows it and its escalation."""

from datetime import timedelta

import eventlet
import pytest

from services.common.db import Store, make_engine, utcnow
from services.requests import breaches

pytestmark = pytest.mark.integration


class Instance:
    """One service instance as the scan sees it: its own engine, its own staged events."""

    def __init__(self, url):
        self.store = Store(make_engine(url))
        self.events = []

    def read(self):
        return self.store.read()

    def transaction(self):
        return self.store.transaction()

    def emit(self, session, type, subject, tenant, data):
        self.events.append((type, data))

    def close(self):
        self.store.engine.dispose()


def test_two_instances_report_each_breach_once(platform, company):
    case = company.case(company.estate_id, phone="13912380001", category="emergency", priority="urgent")
    due = case["resolution_due_at"]
    first, second = (Instance(platform.database_urls["requests"]) for _ in range(2))
    later = utcnow() + timedelta(hours=2)  # past both due times of this case (7.5 min, 1 h)
    with first.read() as session:
        found = [(case_id, stage) for case_id, stage in breaches.candidates(session, later) if case_id == case["id"]]
    assert found == [(case["id"], "response"), (case["id"], "resolution")]

    def claim(instance, stage):
        with instance.transaction() as session:
            return breaches.claim(session, instance.emit, case["id"], stage, later)

    try:
        # Both instances found the same breaches and race for each: one wins, the other sees it taken.
        won = {
            stage: [thread.wait() for thread in [eventlet.spawn(claim, i, stage) for i in (first, second)]]
            for stage in ("response", "resolution")
        }
        late = [claim(instance, stage) for instance in (first, second) for stage in ("response", "resolution")]
    finally:
        first.close()
        second.close()
    assert sorted(won["response"]) == [False, True] and sorted(won["resolution"]) == [False, True]
    assert late == [False, False, False, False]
    reported = [data for instance in (first, second) for kind, data in instance.events if kind == "case.sla_breached"]
    assert sorted(e["stage"] for e in reported) == ["resolution", "response"]
    assert sorted(e["escalation_level"] for e in reported) == [1, 2]
    shown = company.get(f"/api/v1/cases/{case['id']}").json()
    assert shown["escalation_level"] == 2
    assert shown["response_breached_at"] is not None and shown["resolution_breached_at"] is not None
    assert shown["resolution_due_at"] == due
    assert shown["overdue"] is False  # not yet, in real time
    escalated = company.get("/api/v1/cases", params={"escalated": "true"}).json()["data"]
    assert [c["id"] for c in escalated] == [case["id"]]
