"""Two service instances sweeping at once send each delayed link and each reminder exactly once.

Two sessions on one database stand for two instances. On PostgreSQL (TEST_DATABASE_URL) they
really overlap: the first holds its rows uncommitted while the second sweeps (SKIP LOCKED
passes over them, the conditional UPDATE would refuse them). SQLite has one writer at a time,
so there the second sweeps after the first committed and finds nothing left to send.
"""

import os
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from services.common import migrate, outbox
from services.common.db import Store, make_engine
from services.common.envelope import make_event
from services.surveys import issuing, reminders, settings
from services.surveys.models import Outbox, Survey
from tests.support.infra import private_databases

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 28, 2, 0)
BASE = "https://lx.example"


@pytest.fixture
def store():
    with private_databases(os.environ.get("TEST_DATABASE_URL")) as urls:
        migrate.upgrade("surveys", urls["surveys"])
        engine = make_engine(urls["surveys"])
        yield Store(engine)
        engine.dispose()


def emit(session, type, subject, tenant, data):
    outbox.record(
        session, Outbox, make_event(source_service="surveys", type=type, subject=subject, tenant=tenant, data=data)
    )


def closed(n):
    data = {
        "case_id": f"case-{n}",
        "estate_id": "e1",
        "category": "repair",
        "title": "楼道灯不亮",
        "assignee": None,
        "reporter": {"name": "陈先生", "phone": f"+86139000000{n:02d}", "household": f"1-1-{n}"},
    }
    return make_event(source_service="requests", type="case.closed", subject=f"case-{n}", tenant="t1", data=data)


def sent(store, kind):
    with store.read() as session:
        return sorted(session.scalars(select(Outbox.subject).where(Outbox.type == kind)).all())


def two_instances(store, sweep, now):
    """Run ``sweep`` as two instances would; how many each sent."""
    first, second = store.sessions(), store.sessions()
    try:
        if store.engine.dialect.name == "postgresql":
            by_first = sweep(first, now)  # rows locked, not committed yet
            by_second = sweep(second, now)
            second.commit()
            first.commit()
        else:
            by_first = sweep(first, now)
            first.commit()
            by_second = sweep(second, now)
            second.commit()
    finally:
        first.close()
        second.close()
    return by_first, by_second


def test_delayed_links_and_reminders_go_out_once_with_two_instances(store):
    with store.transaction() as session:
        settings.save(session, "t1", {"link_delay_minutes": 120}, T0)
    for n in range(5):
        with store.transaction() as session:
            issuing.issue(session, emit, closed(n), BASE, T0)
    ids = sent(store, "survey.issued")
    assert ids == []

    links = two_instances(store, lambda s, now: issuing.send_due_links(s, emit, BASE, now), T0 + timedelta(hours=2))
    assert sorted(links) == [0, 5]
    with store.read() as session:
        ids = sorted(session.scalars(select(Survey.id)).all())
    assert sent(store, "survey.issued") == ids

    due = T0 + timedelta(hours=50)
    nudges = two_instances(store, lambda s, now: reminders.send_due_reminders(s, emit, BASE, now), due)
    assert sorted(nudges) == [0, 5]
    assert sent(store, "survey.reminder_due") == ids
    again = two_instances(store, lambda s, now: reminders.send_due_reminders(s, emit, BASE, now), due)
    assert again == (0, 0)
