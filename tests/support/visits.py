"""Follow-up visits against a SQLite database, no broker (unit tests): a volunteer registered, a
case closed into a scheduled visit, the visit's row, and an emit that records what was sent.

``url``, ``db`` and ``events`` are fixtures; tests/unit/conftest.py offers them to the unit tests.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from services.common.db import Store, make_engine
from services.volunteers import registry, visits
from services.volunteers.models import Base, Visit

TENANT = "t-1"
ESTATE = "estate-1"
# Wednesday 2026-12-02 02:00 UTC = 10:00 in Shanghai.
NOW = datetime(2026, 12, 2, 2, 0)


class Events:
    """Stands in for ``db.emit``: records what would go to the outbox."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict]] = []

    def __call__(self, session, type, subject, tenant, data):  # noqa: A002 - emit's signature
        self.sent.append((type, subject, data))

    def of(self, type: str) -> list[dict]:  # noqa: A002
        return [data for t, _, data in self.sent if t == type]


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path}/volunteers.sqlite3"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def db(url):
    return Store(make_engine(url))


@pytest.fixture
def events():
    return Events()


def volunteer(db, name, phone, skills=("visit",), availability=(), estates=(ESTATE,), active=True):
    with db.transaction() as session:
        return registry.register(
            session,
            TENANT,
            {
                "name": name,
                "phone": phone,
                "estate_ids": list(estates),
                "skills": list(skills),
                "availability": list(availability),
                "active": active,
                "party_member": True,
            },
        )["id"]


def close_case(db, events, case_id, assignee="王师傅", now=NOW):
    event = {
        "id": f"evt-{case_id}",
        "tenant": TENANT,
        "data": {
            "case_id": case_id,
            "estate_id": ESTATE,
            "title": "楼道灯不亮",
            "assignee": assignee,
            "reporter": {"name": "陈先生", "phone": "+8613912345678", "household": "3-2-501"},
        },
    }
    with db.transaction() as session:
        return visits.schedule_follow_up(session, events, event, 3, now=now).id


def visit_row(db, visit_id) -> Visit:
    with db.read() as session:
        return session.get(Visit, visit_id)
