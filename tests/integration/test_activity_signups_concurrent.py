"""Concurrent resident sign-ups through two instances of the volunteers service on one database.

Two `lianxin-service volunteers` processes consume the same RPC queue; many households sign up
at once for fewer places than there are households, some twice. Exactly `capacity` are
confirmed, the rest wait in arrival order, no household holds two places, and a cancellation
promotes the first one waiting. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from kombu import Connection
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.errors import Conflict
from tests.support.infra import service_processes, wait_for

pytestmark = pytest.mark.integration

TENANT = "concurrent-tenant"
CAPACITY = 5
HOUSEHOLDS = [f"8-1-{n:03d}" for n in range(16)]


@pytest.fixture
def two_instances(tmp_path):
    with service_processes(tmp_path, os.environ.get("TEST_DATABASE_URL")) as lx:
        lx.start("volunteers", instances=2)
        with Connection(lx.env["AMQP_URI"]) as conn:

            def consumers() -> bool:
                try:
                    return conn.default_channel.queue_declare("rpc-volunteers", passive=True).consumer_count == 2
                except Exception:  # noqa: BLE001 - the queue appears when the first instance starts
                    conn.close()
                    return False

            wait_for(consumers, timeout=60, interval=0.2)
        with ClusterRpcProxy({"AMQP_URI": lx.env["AMQP_URI"]}, timeout=60) as rpc:
            yield lx, rpc


def outcomes(replies) -> list[object]:
    results = []
    for reply in replies:
        try:
            results.append(reply.result())
        except Conflict as exc:
            results.append(exc)
    return results


def test_no_overbooking_waiting_list_in_order_and_one_place_per_household(two_instances):
    lx, rpc = two_instances
    starts = datetime.now(UTC) + timedelta(days=2)
    activity = rpc.volunteers.create_activity(
        TENANT,
        {
            "title": "义诊",
            "kind": "free_clinic",
            "estate_ids": ["estate-1"],
            "place": "党群服务中心",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "capacity": CAPACITY,
            "publish": True,
        },
    )
    # Every household once, and the first four a second time (another family member).
    attempts = [(h, "居民") for h in HOUSEHOLDS] + [(h, "家人") for h in HOUSEHOLDS[:4]]
    replies = [
        rpc.volunteers.sign_up_resident.call_async(
            TENANT, activity["id"], {"name": name, "phone": f"139{n:08d}", "household": household}
        )
        for n, (household, name) in enumerate(attempts)
    ]
    results = outcomes(replies)

    assert sum(isinstance(r, Conflict) for r in results) == 4
    listed = sorted(rpc.volunteers.resident_signups(TENANT, activity["id"]), key=lambda s: s["position"])
    assert sorted(s["household"] for s in listed) == sorted(HOUSEHOLDS)  # each exactly once
    assert len({s["position"] for s in listed}) == len(listed)
    assert [s["status"] for s in listed] == ["confirmed"] * CAPACITY + ["waiting"] * (len(HOUSEHOLDS) - CAPACITY)

    # Two confirmed households cancel while two new ones sign up, all at once.
    leaving = [s["id"] for s in listed[:2]]
    first_waiting = [s["id"] for s in listed[CAPACITY : CAPACITY + 2]]
    replies = [rpc.volunteers.cancel_resident_signup.call_async(TENANT, activity["id"], sid) for sid in leaving]
    replies += [
        rpc.volunteers.sign_up_resident.call_async(
            TENANT, activity["id"], {"name": "新来的", "phone": f"1370000000{n}", "household": f"9-9-90{n}"}
        )
        for n in range(2)
    ]
    assert not any(isinstance(r, Conflict) for r in outcomes(replies))

    after = {s["id"]: s for s in rpc.volunteers.resident_signups(TENANT, activity["id"])}
    confirmed = [s for s in after.values() if s["status"] == "confirmed"]
    assert len(confirmed) == CAPACITY
    assert all(after[sid]["status"] == "confirmed" for sid in first_waiting)  # promoted, in order
    assert all(after[sid]["status"] == "cancelled" for sid in leaving)
    assert [s["status"] for s in after.values() if s["household"].startswith("9-9-")] == ["waiting", "waiting"]
    live = [s["household"] for s in after.values() if s["status"] != "cancelled"]
    assert len(live) == len(set(live))
    assert len(lx.live("volunteers")) == 2
