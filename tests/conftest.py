"""Root fixtures. eventlet must patch the standard library before anything else imports it."""

import services  # noqa: F401, I001  (first: it silences eventlet's import-time deprecation banner)
import eventlet

eventlet.monkey_patch()

import logging  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import ssl  # noqa: E402

import urllib3.util.ssl_  # noqa: E402

# Two pytest plugins (anyio, schemathesis) import urllib3 before this file can patch, so urllib3
# keeps the original SSLContext class, whose ``options`` setter recurses forever once eventlet
# has patched ``ssl``. boto3 (S3 photo storage) makes one per client; give it the green class,
# as a service process (which patches first, services/runner.py) has anyway.
urllib3.util.ssl_.SSLContext = ssl.SSLContext

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
def platform(amqp_uri, database_urls, outbox_link, tmp_path_factory):
    """All five services running in this process, migrated databases, short retry delays.

    Photos go to a directory of the session's own (``platform.overrides["PHOTO_DIR"]``).
    """
    photo_dir = tmp_path_factory.mktemp("photos")
    # Every test signs in from 127.0.0.1: the per-address code limit is tested on a gateway of its own.
    lx = Platform(
        amqp_uri,
        database_urls,
        RETRY_DELAYS="0.3,0.6,1.2",
        DLQ_MAX_ATTEMPTS=4,
        RPC_TIMEOUT=10,
        SIGN_IN_SEND_LIMIT_ADDRESS="100000/hour",
        PHOTO_DIR=photo_dir,
    )
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
    from tests.residents import confirm, post_form, sign_in

    for i in range(n):
        phone, household = f"139{phone_base + i:08d}", f"{i + 1}-1-101"
        confirm(platform, community, api.tenant_id, api.estate_id, (household, phone))
        case = api.case(api.estate_id, phone=phone, household=household)
        api.close(case["id"])
        link = wait_for(lambda phone=phone: survey_link(platform, api.tenant_id, "+86" + phone), timeout=30)
        resident = sign_in(platform, phone)  # signed in, so the answer counts in the league
        answer = {"score": str(score), "solved": "yes", "csrf": resident.csrf}
        headers = {"User-Agent": f"resident-phone-{phone}"}  # each resident answers from their own phone
        assert post_form(platform, link, answer, headers=headers, cookies=resident.cookies).status_code == 200


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


# -- people who sign in (services/gateway/people.py) ------------------------------------------


def signed_in_browser(platform, phone: str):
    """A browser (requests.Session) signed in as ``phone``, without the code round trip.

    ``browser.csrf`` is the session's form token (the hidden ``csrf`` field of every POST form).
    The session is made directly in the gateway's database, exactly as ``POST /signin`` makes it.
    """
    import requests

    from services.common.db import utcnow
    from services.common.fields import mainland_mobile
    from services.gateway import sessions

    with platform.store("gateway").transaction() as session:
        person = sessions.person_for(session, mainland_mobile(phone), utcnow())
        token = sessions.start(session, person, utcnow())
        signed = sessions.resume(session, token, utcnow())
    browser = requests.Session()
    browser.trust_env = False
    browser.cookies.set(sessions.COOKIE, token, domain="127.0.0.1", path="/")
    browser.csrf = signed.csrf
    return browser


def resident_app(platform, tenant_id: str, phone: str, key: str | None = None) -> Api:
    """An operator-issued app key of ``tenant_id`` acting for ``phone`` (its token made directly).

    ``api.app_key`` is the key alone, ``api.token`` the resident's ``Lianxin-Resident-Token``.
    """
    from sqlalchemy import select

    from services.common.db import utcnow
    from services.common.fields import mainland_mobile
    from services.gateway import sessions, tenants
    from services.gateway.models import ApiKey, Tenant

    with platform.store("gateway").transaction() as session:
        if key is None:
            name = session.scalar(select(Tenant.name).where(Tenant.id == tenant_id))
            key = tenants.issue_app_key(session, name, "测试App")["api_key"]
        key_id = session.scalar(select(ApiKey.id).where(ApiKey.key_hash == tenants.hash_key(key)))
        person = sessions.person_for(session, mainland_mobile(phone), utcnow())
        token = sessions.start(session, person, utcnow(), app_key_id=key_id)
    api = Api(platform, key)
    api.app_key, api.token = key, token
    api.headers["Lianxin-Resident-Token"] = token
    return api


class CodeCatcher(logging.Handler):
    """The development log channel's lines: where a developer (and a test) reads a sign-in code."""

    LINE = re.compile(r"sign-in code for (\S+): (\d{6})$")

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def code_for(self, phone: str) -> str:
        """The newest code logged for ``phone`` (waits for it: the notifications service sends it)."""
        from services.common.phones import mask_phone
        from services.common.testing import wait_for

        masked = mask_phone(phone)

        def newest():
            found = [m.group(2) for m in map(self.LINE.search, self.lines) if m and m.group(1) == masked]
            return found[-1] if found else None

        return wait_for(newest, timeout=10)


@pytest.fixture
def sign_in_codes():
    """Catches the codes the ``log`` channel shows in development (use distinct phones per test)."""
    catcher = CodeCatcher()
    logger = logging.getLogger("lianxin.channel.log")
    saved = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(catcher)
    yield catcher
    logger.removeHandler(catcher)
    logger.setLevel(saved)
