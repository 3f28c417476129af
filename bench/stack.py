"""The harness's client and seed; the process stack itself is tests.support.infra's."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests as http

from tests.support.infra import ServiceProcesses, wait_for


class Client:
    """A tenant's HTTP client that retries through outages (5xx, refused connections)."""

    def __init__(self, base: str, key: str) -> None:
        self.base, self.key = base, key
        self.session = http.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {key}"

    def post(self, path: str, body: dict, deadline: float = 120.0) -> http.Response:
        end = time.monotonic() + deadline
        while True:
            try:
                response = self.session.post(self.base + path, json=body, timeout=10)
                if response.status_code < 500:
                    return response
            except http.RequestException:
                pass
            if time.monotonic() > end:
                raise TimeoutError(f"POST {path} kept failing for {deadline}s")
            time.sleep(0.2)


def seed(lx: ServiceProcesses, volunteers: int = 3) -> tuple[Client, str, str]:
    wait_for(lx.ready, timeout=60)
    tenant = json.loads(lx.cli("tenant", "create", "--name", "缔华物业", "--community", "政通路社区"))
    client = Client(lx.base, tenant["api_key"])
    estate = client.post("/api/v1/estates", {"name": "东方现代城"}).json()["id"]
    for n in range(volunteers):
        client.post("/api/v1/volunteers", {"name": f"志愿者{n}", "phone": f"1380000{n:04d}", "estate_ids": [estate]})
    return client, tenant["tenant_id"], estate


def prepare(client: Client, estate: str, n: int, first: int = 0, workers: int = 4) -> list[str]:
    """N cases taken up to ``resolved`` through the API, ready to be closed (in a few threads,
    each with its own HTTP session: 2,000 cases are 10,000 requests)."""

    sessions = threading.local()

    def one(i: int) -> str:
        if not hasattr(sessions, "client"):
            sessions.client = Client(client.base, client.key)
        own = sessions.client
        case = own.post(
            "/api/v1/cases",
            {
                "estate_id": estate,
                "category": "repair",
                "title": f"报修 {i}",
                "description": "可靠性测试",
                "channel": "app",
                "reporter": {"name": "住户", "phone": f"139{i:08d}", "household": "1-1-101"},
            },
        ).json()
        for action, extra in (("accept", {}), ("assign", {"assignee": "师傅"}), ("start", {}), ("resolve", {})):
            own.post(f"/api/v1/cases/{case['id']}/transitions", {"action": action} | extra)
        return case["id"]

    with ThreadPoolExecutor(max(1, min(workers, n))) as pool:
        return list(pool.map(one, range(first, first + n)))


def close(client: Client, case_id: str, deadline: float = 180.0) -> bool:
    """Close a case, retrying through outages; whether the close was accepted (or already done)."""
    response = client.post(f"/api/v1/cases/{case_id}/transitions", {"action": "close"}, deadline=deadline)
    return response.status_code == 200 or (response.status_code == 409 and "closed" in response.text)
