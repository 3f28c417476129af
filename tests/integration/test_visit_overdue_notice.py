"""An overdue follow-up visit reaches people: the volunteer who missed it hears where it went,
and once no volunteer can take it, the estate's staff hear that it is theirs."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.common import outbox
from services.common.db import utcnow
from services.common.envelope import make_event
from services.volunteers import visits
from services.volunteers.models import Outbox, Visit
from tests.support.infra import wait_for

pytestmark = pytest.mark.integration


class Sweeper:
    """The volunteers service's overdue timer, run now instead of in a minute: the same
    ``visits.sweep_overdue`` on the service's database, its events staged in the service's
    outbox for the running relay to publish."""

    def __init__(self, platform):
        self.store = platform.store("volunteers")

    def read(self):
        return self.store.read()

    def transaction(self):
        return self.store.transaction()

    def emit(self, session, type, subject, tenant, data):
        event = make_event(source_service="volunteers", type=type, subject=subject, tenant=tenant, data=data)
        outbox.record(session, Outbox, event)
        return event


def test_an_overdue_visit_tells_its_volunteer_then_the_staff(platform, company):
    saved = company.post(
        "/api/v1/contacts", {"phone": "13912391001", "name": "刘经理", "role": "staff", "estate_id": company.estate_id}
    )
    assert saved.status_code == 200, saved.text
    case = company.case(company.estate_id, phone="13912391009", title="单元门禁损坏")
    company.close(case["id"])

    def visit():
        with platform.store("volunteers").read() as session:
            return session.scalars(select(Visit).where(Visit.case_id == case["id"])).first()

    first = wait_for(visit, timeout=20)
    phones = {v["id"]: (v["name"], v["phone"]) for v in company.volunteers}
    sweeper = Sweeper(platform)

    def inbox(phone):
        return [m["body"] for m in company.get("/api/v1/inbox", params={"phone": phone}).json()["data"]]

    def miss(holder):
        """Let the holder's due time pass, and sweep."""
        with sweeper.transaction() as session:
            session.get(Visit, first.id).due_at = utcnow() - timedelta(minutes=1)
        assert visits.sweep_overdue(sweeper, utcnow()) == 1
        name, phone = phones[holder]
        return name, wait_for(lambda: [b for b in inbox(phone) if "逾期" in b], timeout=20)

    name, told = miss(first.volunteer_id)  # to the other volunteer
    assert [b.split("的回访已逾期")[0] for b in told] == [f"{name}您好，“单元门禁损坏”"]
    assert told[0].endswith("已转给其他志愿者。")
    assert inbox("13912391001") == []
    second = visit()
    assert second.volunteer_id != first.volunteer_id and second.volunteer_id in phones

    name, told = miss(second.volunteer_id)  # reassigned once already: left for staff
    assert told[0].startswith(f"{name}您好，“单元门禁损坏”的回访已逾期") and told[0].endswith(
        "已转由物业工作人员回访。"
    )
    staff = wait_for(lambda: inbox("13912391001"), timeout=20)
    assert staff == ["刘经理您好，“单元门禁损坏”的回访逾期且无志愿者可接，请安排工作人员回访。"]
    assert visit().volunteer_id is None
