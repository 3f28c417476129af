"""Root fixtures (the helpers they use live in tests/support). eventlet must patch the standard library
before anything else imports it."""

import services  # noqa: F401, I001  (first: it silences eventlet's import-time deprecation banner)
import eventlet

eventlet.monkey_patch()

import logging  # noqa: E402
import os  # noqa: E402
import ssl  # noqa: E402

import urllib3.util.ssl_  # noqa: E402

# Two pytest plugins (anyio, schemathesis) import urllib3 before this file can patch, so urllib3
# keeps the original SSLContext class, whose ``options`` setter recurses forever once eventlet
# has patched ``ssl``. boto3 (S3 photo storage) makes one per client; give it the green class,
# as a service process (which patches first, services/runner.py) has anyway.
urllib3.util.ssl_.SSLContext = ssl.SSLContext

import pytest  # noqa: E402

from tests.support.api import company_in, new_company  # noqa: E402
from tests.support.infra import Platform, TcpProxy, private_databases, private_vhost  # noqa: E402
from tests.support.people import CodeCatcher, closed_and_rated  # noqa: E402


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
        WEBHOOK_ALLOWED_HOSTS="127.0.0.1",  # the security suite's webhook points at a closed loopback port
    )
    lx.migrate()
    lx.start(requests={"OUTBOX_AMQP_URI": outbox_link.uri})
    yield lx
    lx.stop()


@pytest.fixture
def company(platform):
    """A fresh tenant with one estate and two visit volunteers serving it."""
    return new_company(platform)


@pytest.fixture
def second_company(platform):
    """Another property company of the same community."""
    return new_company(platform)


# -- a community of its own (league table, dashboard: HTTP and browser tests) ---------------------


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
