"""The harness's client and seed; the process stack itself is services.common.testing's."""

from __future__ import annotations

import json
import time

import requests as http

from services.common.testing import ServiceProcesses, wait_for


class Client:
    """A tenant's HTTP client that retries through outages (5xx, refused connections)."""

    def __init__(self, base: str, key: str) -> None:
        self.base = base
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
