"""A broadcast to a 7,000-household estate survives SIGKILL of the notifications service mid-way.

The contacts come in through `lianxin contacts import`; the notice goes out in small batches; the
service is killed while recipients are still pending, restarted, and then every household has
exactly one in-app message: none twice, none missing.
"""

import json
import os
import signal

import pytest
import requests as http
from sqlalchemy import func, select

from services.common.db import make_engine
from services.notifications.models import BroadcastRecipient, Delivery, InboxMessage
from tests.support.infra import service_processes, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(360)]

HOUSEHOLDS = 7000


@pytest.fixture
def processes(tmp_path):
    with service_processes(
        tmp_path,
        os.environ.get("TEST_DATABASE_URL"),
        NOTIFY_CHANNELS="inapp",
        NOTIFY_BATCH_SIZE="100",
        NOTIFY_BATCH_PAUSE_SECONDS="0.05",
        RPC_TIMEOUT="10",
    ) as lx:
        yield lx


def write_contacts(path, estate):
    """7,000 households, 500 of them with a second member (who must not get a second message)."""
    lines = ["phone,name,estate_id,household"]
    for n in range(HOUSEHOLDS):
        lines.append(f"1390{n:07d},住户{n},{estate},{n // 200 + 1}-{n // 100 % 2 + 1}-{n % 100 + 101}")
    for n in range(500):
        lines.append(f"1380{n:07d},家属{n},{estate},{n // 200 + 1}-{n // 100 % 2 + 1}-{n % 100 + 101}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_7000_household_broadcast_resumes_after_sigkill_without_duplicates_or_gaps(processes, tmp_path):
    lx = processes
    lx.start("notifications")
    lx.start("gateway")
    wait_for(lx.ready, timeout=60)
    tenant = json.loads(lx.cli("tenant", "create", "--name", "政通物业", "--community", "政通路社区"))
    s = http.Session()
    s.trust_env = False
    s.headers["Authorization"] = f"Bearer {tenant['api_key']}"

    write_contacts(tmp_path / "residents.csv", "estate-zt")
    report = json.loads(lx.cli("contacts", "import", "--tenant", tenant["tenant_id"], str(tmp_path / "residents.csv")))
    assert report == {"received": HOUSEHOLDS + 500, "imported": HOUSEHOLDS + 500, "rejected": []}

    created = wait_for(
        lambda: (
            (
                r := s.post(
                    lx.base + "/api/v1/broadcasts",
                    json={
                        "estate_id": "estate-zt",
                        "title": "停水通知",
                        "body": "12月1日9:00-17:00停水。",
                        "idempotency_key": "w-1",
                    },
                    timeout=30,
                )
            ).status_code
            == 202
            and r.json()
        ),
        60,
    )
    assert created["total"] == HOUSEHOLDS

    def progress():
        return s.get(f"{lx.base}/api/v1/broadcasts/{created['id']}", timeout=15).json()

    wait_for(lambda: progress()["sent"] >= 500, 120)
    assert lx.kill("notifications", signal.SIGKILL) == [-signal.SIGKILL]

    engine = make_engine(lx.urls["notifications"])
    try:
        with engine.connect() as conn:
            pending = conn.scalar(
                select(func.count()).select_from(BroadcastRecipient).where(BroadcastRecipient.status == "pending")
            )
        assert 0 < pending < HOUSEHOLDS, "the kill must land mid-way"

        lx.start("notifications")
        done = wait_for(lambda: (p := progress()).get("status") == "done" and p, 300)
        assert (done["total"], done["sent"], done["failed"], done["pending"]) == (HOUSEHOLDS, HOUSEHOLDS, 0, 0)
        assert done["channels"] == {"inapp": {"delivered": HOUSEHOLDS}}

        with engine.connect() as conn:
            messages = conn.scalar(select(func.count()).select_from(InboxMessage))
            people = conn.scalar(select(func.count(func.distinct(InboxMessage.recipient_phone))))
            second_members = conn.scalar(
                select(func.count()).select_from(InboxMessage).where(InboxMessage.recipient_phone.like("+86138%"))
            )
            deliveries = conn.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.trigger_id == created["id"])
            )
        assert (messages, people, second_members) == (HOUSEHOLDS, HOUSEHOLDS, 0)
        assert deliveries == HOUSEHOLDS
    finally:
        engine.dispose()
