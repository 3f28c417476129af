"""The queue benchmark on a running stack: two companies' cases loaded, a member of staff signed
in, the workbench asked for under each filter combination.

The company measured gets ``cases`` cases over nine estates and another company as many again,
interleaved in time, so the tenant filter has to do its work. The person is invited as the
operator does (``lianxin staff invite``) and signed in the way ``POST /signin`` signs in (a
server-side session, its token in the ``lx_session`` cookie), without the code round trip.
"""

from __future__ import annotations

import json
from datetime import UTC

import requests as http

from bench.perf import queue, queue_seed
from bench.stack import Client
from services.common.db import Store, make_engine, utcnow
from services.common.fields import SHANGHAI
from services.gateway import sessions
from tests.support.infra import ServiceProcesses, wait_for

ESTATES = ("东方现代城", "政通花园", "锦绣家园", "翠湖苑", "阳光小区", "和平里", "金色港湾", "书香门第", "滨江一号")
STAFF_PHONE = "13800000016"


def company(lx: ServiceProcesses, name: str, estates: tuple[str, ...]) -> tuple[queue_seed.Tenant, str]:
    """A company made by the operator, with its estates made over the API; and its API key."""
    tenant = json.loads(lx.cli("tenant", "create", "--name", name, "--community", "政通路社区"))
    client = Client(lx.base, tenant["api_key"])
    ids = tuple(client.post("/api/v1/estates", {"name": estate}).json()["id"] for estate in estates)
    return queue_seed.Tenant(tenant["tenant_id"], ids), tenant["api_key"]


def staff_browser(lx: ServiceProcesses, company_name: str) -> http.Session:
    """A browser signed in as the company's first admin."""
    lx.cli("staff", "invite", "--company", company_name, "--phone", STAFF_PHONE, "--name", "王经理")
    store = Store(make_engine(lx.urls["gateway"]))
    try:
        with store.transaction() as session:
            person = sessions.person_for(session, "+86" + STAFF_PHONE, utcnow())
            token = sessions.start(session, person, utcnow())
    finally:
        store.engine.dispose()
    browser = http.Session()
    browser.trust_env = False
    browser.cookies.set(sessions.COOKIE, token, domain="127.0.0.1", path="/")
    return browser


def run(lx: ServiceProcesses, cases: int, requests: int, warmup: int) -> dict:
    """Load, sign in, measure; the outcome with the per-combination table."""
    for name in ("requests", "gateway"):
        lx.start(name)
    wait_for(lx.ready, timeout=60)
    mine, _ = company(lx, "缔华物业", ESTATES)
    other, _ = company(lx, "鑫苑物业", ESTATES[:3])
    loaded = queue_seed.load(lx.urls["requests"], (mine, other), cases)
    print(f"   loaded {json.dumps(loaded)}", flush=True)
    browser = staff_browser(lx, "缔华物业")

    def get(params: dict[str, str]) -> http.Response:
        return browser.get(f"{lx.base}/workbench", params=params, timeout=60, allow_redirects=False)

    first = get({})
    if first.status_code != 200:
        raise RuntimeError(f"GET /workbench answered {first.status_code}")
    today = utcnow().replace(tzinfo=UTC).astimezone(SHANGHAI)
    table = queue.combinations(mine.estates[2], today, queue.next_cursor(first.text))
    outcome = queue.measure(get, table, requests, warmup)
    outcome["loaded"] = loaded
    outcome["cases_of_the_company"] = cases
    return outcome
