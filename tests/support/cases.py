"""The case desk's domain without a broker (unit tests): frozen times, a fake emit that also
writes the outbox, and a case submitted and moved on a SQLite store."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.common import outbox
from services.common.envelope import make_event
from services.requests import cases
from services.requests.models import Outbox

T0 = datetime(2026, 11, 28, 2, 0, 0)  # 10:00 in Shanghai
HOUR = timedelta(hours=1)


class Emitted(list):
    """The events a call staged: (type, subject, tenant, data), written to the outbox too."""

    def __call__(self, session, type, subject, tenant, data):
        event = make_event(source_service="requests", type=type, subject=subject, tenant=tenant, data=data)
        outbox.record(session, Outbox, event)
        self.append((type, subject, tenant, data))
        return event

    def of(self, kind):
        return [e[3] for e in self if e[0] == kind]


def new_case(store, emit, category="repair", priority="normal", now=T0, tenant="t1", estate_id=None):
    """A case submitted at ``now`` (in a new estate unless ``estate_id`` says which)."""
    with store.transaction() as session:
        if estate_id is None:
            estate = {"name": "东方现代城", "address": None, "households": 100}
            estate_id = cases.create_estate(session, tenant, estate)["id"]
        body = {
            "estate_id": estate_id,
            "category": category,
            "title": "楼道灯不亮",
            "description": "3号楼2单元",
            "channel": "app",
            "priority": priority,
            "reporter": {"name": "陈先生", "phone": "+8613912345678", "household": "3-2-501"},
        }
        return cases.submit(session, emit, tenant, body, "staff", now=now)


def move(store, emit, case_id, action, now, tenant="t1", **extra):
    with store.transaction() as session:
        return cases.transition(session, emit, tenant, case_id, action, "staff", now=now, **extra)


def close(store, emit, case_id, at=T0, note="已更换灯泡", tenant="t1"):
    for action, extra in (
        ("accept", {}),
        ("assign", {"assignee": "王师傅"}),
        ("start", {}),
        ("resolve", {"note": note}),
    ):
        move(store, emit, case_id, action, at, tenant, **extra)
    return move(store, emit, case_id, "close", at, tenant)
