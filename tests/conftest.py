"""Root fixtures. eventlet must patch the standard library before anything else imports it."""

import eventlet

eventlet.monkey_patch()

import os  # noqa: E402

import pytest  # noqa: E402

from services.common.testing import Platform, TcpProxy, private_databases, private_vhost  # noqa: E402


@pytest.fixture(scope="session")
def amqp_uri():
    with private_vhost(os.environ.get("TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")) as uri:
        yield uri


@pytest.fixture(scope="session")
def database_urls():
    with private_databases(os.environ.get("TEST_DATABASE_URL")) as urls:
        yield urls


@pytest.fixture(scope="session")
def outbox_link(amqp_uri):
    """A TCP proxy in front of the broker for the requests service's outbox relay only.

    Cutting it is "the broker is unreachable" as the relay sees it, while RPC still works,
    so a case can be closed over HTTP during the outage.
    """
    netloc = amqp_uri.split("@", 1)[1].split("/", 1)[0]
    port = int(netloc.rsplit(":", 1)[1])
    proxy = TcpProxy(port)
    proxy.uri = amqp_uri.replace(f":{port}/", f":{proxy.port}/")
    yield proxy
    proxy.close()


@pytest.fixture(scope="session")
def platform(amqp_uri, database_urls, outbox_link):
    """All five services running in this process, migrated databases, short retry delays."""
    lx = Platform(amqp_uri, database_urls, RETRY_DELAYS="0.3,0.6,1.2", DLQ_MAX_ATTEMPTS=4, RPC_TIMEOUT=10)
    lx.migrate()
    lx.start(requests={"OUTBOX_AMQP_URI": outbox_link.uri})
    yield lx
    lx.stop()


class Api:
    """A tenant's view of the gateway: JSON requests with its bearer key."""

    def __init__(self, lx: Platform, key: str) -> None:
        self.lx = lx
        self.key = key
        self.headers = {"Authorization": f"Bearer {key}"}

    def get(self, path, headers=None, **kwargs):
        headers = self.headers | (headers or {})
        return self.lx.http.get(self.lx.base_url + path, headers=headers, timeout=15, **kwargs)

    def post(self, path, json=None, headers=None, **kwargs):
        headers = self.headers | (headers or {})
        return self.lx.http.post(self.lx.base_url + path, json=json, headers=headers, timeout=15, **kwargs)

    def case(self, estate_id, phone="13912345678", household="3-2-501", **fields):
        body = {
            "estate_id": estate_id,
            "category": "repair",
            "title": "楼道灯不亮",
            "description": "3号楼2单元5楼楼道灯坏了",
            "channel": "app",
            "priority": "normal",
            "reporter": {"name": "陈先生", "phone": phone, "household": household},
        } | fields
        response = self.post("/api/v1/cases", body)
        assert response.status_code == 201, response.text
        return response.json()

    def transition(self, case_id, action, **fields):
        return self.post(f"/api/v1/cases/{case_id}/transitions", {"action": action} | fields)

    def close(self, case_id, assignee="王师傅"):
        for action, extra in (
            ("accept", {}),
            ("assign", {"assignee": assignee}),
            ("start", {}),
            ("resolve", {"note": "已更换灯泡"}),
            ("close", {}),
        ):
            response = self.transition(case_id, action, **extra)
            assert response.status_code == 200, response.text
        return response.json()


def new_company(platform):
    import uuid

    from services.gateway import tenants

    with platform.store("gateway").transaction() as session:
        created = tenants.create_tenant(session, f"测试物业-{uuid.uuid4().hex[:8]}", "政通路社区")
    api = Api(platform, created["api_key"])
    api.tenant_id = created["tenant_id"]
    estate = api.post("/api/v1/estates", {"name": "东方现代城", "households": 1200})
    assert estate.status_code == 201, estate.text
    api.estate_id = estate.json()["id"]
    api.volunteers = []
    for name, phone in (("张红梅", "13800000101"), ("李建国", "13800000102")):
        response = api.post(
            "/api/v1/volunteers", {"name": name, "phone": phone, "estate_ids": [api.estate_id], "skills": ["visit"]}
        )
        assert response.status_code == 201, response.text
        api.volunteers.append(response.json())
    return api


@pytest.fixture
def company(platform):
    """A fresh tenant with one estate and two visit volunteers serving it."""
    return new_company(platform)


@pytest.fixture
def second_company(platform):
    """Another property company of the same community."""
    return new_company(platform)


# -- a community of its own (league table, dashboard: HTTP and browser tests) ---------------------


def company_in(platform, community: str, name: str) -> Api:
    from services.gateway import tenants

    with platform.store("gateway").transaction() as session:
        created = tenants.create_tenant(session, name, community)
    api = Api(platform, created["api_key"])
    api.tenant_id = created["tenant_id"]
    api.estate_id = api.post("/api/v1/estates", {"name": f"{name[:2]}花园", "households": 300}).json()["id"]
    return api


def closed_and_rated(platform, api: Api, n: int, score: int, phone_base: int, community: str) -> None:
    """``n`` closed cases, each rated ``score`` by its reporter, whom the community confirmed in the household."""
    from services.common.testing import wait_for
    from tests.integration.test_closed_loop import survey_link
    from tests.residents import confirm, sign_in

    for i in range(n):
        phone, household = f"139{phone_base + i:08d}", f"{i + 1}-1-101"
        confirm(platform, community, api.tenant_id, api.estate_id, (household, phone))
        case = api.case(api.estate_id, phone=phone, household=household)
        api.close(case["id"])
        link = wait_for(lambda phone=phone: survey_link(platform, api.tenant_id, "+86" + phone), timeout=30)
        resident = sign_in(platform, phone)  # signed in, so the answer counts in the league
        answer = {"score": str(score), "solved": "yes", "csrf": resident.csrf}
        headers = {"User-Agent": f"resident-phone-{phone}"}  # each resident answers from their own phone
        assert platform.http.post(link, data=answer, headers=headers, cookies=resident.cookies).status_code == 200


@pytest.fixture(scope="session")
def community_world(platform):
    """A community of its own: two companies with 5 rated closed cases each, a small one, a party branch."""
    import uuid

    from services.gateway import tenants

    name = f"测试社区{uuid.uuid4().hex[:6]}"
    good = company_in(platform, name, f"好物业{uuid.uuid4().hex[:4]}")
    fair = company_in(platform, name, f"中物业{uuid.uuid4().hex[:4]}")
    small = company_in(platform, name, f"小物业{uuid.uuid4().hex[:4]}")
    closed_and_rated(platform, good, 5, 5, 71_000, name)
    closed_and_rated(platform, fair, 5, 3, 72_000, name)
    closed_and_rated(platform, small, 2, 5, 73_000, name)
    open_case = small.case(small.estate_id, phone="13900074000")
    with platform.store("gateway").transaction() as session:
        branch = tenants.create_tenant(session, f"{name}党委", name)
        supervisor = tenants.issue_key(session, branch["tenant_id"], role="supervisor")
    return {"name": name, "good": good, "fair": fair, "small": small, "supervisor": supervisor, "open": open_case}
