"""The demo seed's keys (issue 18): generated at seed time by the key-issuing code the CLI uses,
stored as hashes only, shown once by `make run`; a second run says how to issue a new one."""

import hashlib

import pytest
from sqlalchemy import select

from services import demo, platform
from services.common.db import Store, make_engine
from services.gateway import tenants
from services.gateway.models import ApiKey
from services.gateway.models import Base as GatewayBase
from services.requests.models import Base as RequestsBase
from services.volunteers.models import Base as VolunteersBase

pytestmark = pytest.mark.unit

BASES = {"gateway": GatewayBase, "requests": RequestsBase, "volunteers": VolunteersBase}


@pytest.fixture
def stores(tmp_path):
    made = {}
    for name, base in BASES.items():
        engine = make_engine(f"sqlite:///{tmp_path}/{name}.sqlite3")
        base.metadata.create_all(engine)
        made[name] = Store(engine)
    yield made
    for store in made.values():
        store.engine.dispose()


def seed(stores):
    return demo.seed(stores["gateway"], stores["requests"], stores["volunteers"])


def every_value(store):
    """Every value of every row of every table, as text: where a clear key must never be."""
    with store.read() as session:
        return [
            str(value)
            for table in GatewayBase.metadata.sorted_tables
            for row in session.execute(select(table))
            for value in row
        ]


def test_each_holder_gets_a_generated_key_stored_only_as_its_hash(stores):
    seeded = seed(stores)
    assert [(k.holder, k.role) for k in seeded.keys] == [
        (demo.BRANCH, "supervisor"),
        ("缔华物业", "company_admin"),
        ("缔华物业", "resident_app"),
        ("鑫苑物业", "company_admin"),
        ("新生活物业", "company_admin"),
    ]
    assert len({k.key for k in seeded.keys}) == 5 and all(k.use for k in seeded.keys)
    stored = every_value(stores["gateway"])
    with stores["gateway"].read() as session:
        for issued in seeded.keys:
            assert issued.key.startswith(tenants.KEY_PREFIX) and len(issued.key) == len(tenants.KEY_PREFIX) + 32
            tenant, record = tenants.authenticate(session, issued.key)
            assert (tenant.name, record.role) == (issued.holder, issued.role)
            assert record.key_hash == hashlib.sha256(issued.key.encode()).hexdigest()
            assert not any(issued.key in value for value in stored)  # its hash and prefix only


def test_a_second_seed_keeps_the_data_issues_no_key_and_another_demo_has_other_keys(stores, tmp_path):
    first = seed(stores)
    with stores["gateway"].read() as session:
        keys_before = session.scalars(select(ApiKey.id)).all()
    again = seed(stores)
    assert again.keys == [] and again.companies == first.companies
    with stores["gateway"].read() as session:
        assert session.scalars(select(ApiKey.id)).all() == keys_before

    other = {}
    for name, base in BASES.items():
        engine = make_engine(f"sqlite:///{tmp_path}/other-{name}.sqlite3")
        base.metadata.create_all(engine)
        other[name] = Store(engine)
    try:
        assert not {k.key for k in seed(other).keys} & {k.key for k in first.keys}  # nothing fixed to guess
    finally:
        for store in other.values():
            store.engine.dispose()


def test_make_run_prints_each_new_key_once_and_then_how_to_issue_one(stores):
    ports = {"requests": 8101}
    first = seed(stores)
    printed = "\n".join(platform.banner("http://127.0.0.1:8000", ports, first))
    for issued in first.keys:
        assert printed.count(issued.key) == 1, issued.role
        line = next(line for line in printed.splitlines() if issued.key in line)
        assert issued.holder in line and issued.role in line
    assert "shown only this once" in printed
    assert 'Authorization: Bearer $KEY"' in printed  # the curl line names the key, never repeats it

    printed_again = "\n".join(platform.banner("http://127.0.0.1:8000", ports, seed(stores)))
    assert tenants.KEY_PREFIX not in printed_again
    assert f"lianxin key create --tenant {demo.BRANCH} --role supervisor" in printed_again
    assert "lianxin key create --tenant 缔华物业 --role company_admin" in printed_again
    assert f"lianxin app-key issue {demo.APP} --tenant 缔华物业" in printed_again
    assert 'Authorization: Bearer $KEY"' in printed_again
