"""Tenant scoping at the gateway without services: a key authenticates as its own company only,
revoked and rotated keys stop working, a company revokes only its own keys, every key route is
rate limited and role-checked before anything else, and an app acts only for its own signed-in
resident. On SQLite, with the gateway's own tables."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.common.db import Store, make_engine, utcnow
from services.common.errors import Conflict, NotFound
from services.gateway import authentication, authorization, sessions, tenants
from services.gateway.authorization import Caller, Forbidden, Unauthorized
from services.gateway.models import ApiKey, Base
from services.gateway.ratelimit import Limiter, RateLimits, TooManyRequests

pytestmark = pytest.mark.unit

CASE = "/api/v1/cases/<string:case_id>"


@pytest.fixture
def store(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path}/gateway.sqlite3"))
    Base.metadata.create_all(store.engine)
    yield store
    store.engine.dispose()


def company(store, name, community=None):
    with store.transaction() as session:
        return tenants.create_tenant(session, name, community)


def request(headers=None, path="/api/v1/cases", method="GET", data=None):
    return Request(EnvironBuilder(path=path, method=method, headers=headers or {}, data=data).get_environ())


def bearer(key):
    return request({"Authorization": f"Bearer {key}"})


def test_a_new_company_gets_one_admin_key_shown_once_and_stored_hashed(store):
    made = company(store, "万科物业", "翠苑")
    key = made["api_key"]
    assert key.startswith("lx_live_") and len(key) == len("lx_live_") + 32
    assert (made["name"], made["community"]) == ("万科物业", "翠苑")
    with store.read() as session:
        [row] = session.scalars(select(ApiKey)).all()
    assert (row.tenant_id, row.prefix, row.role, row.rate_limit, row.label) == (
        made["tenant_id"],
        key[:12],
        "company_admin",
        None,
        None,
    )
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest() == tenants.hash_key(key)
    with store.transaction() as session, pytest.raises(Conflict, match="tenant '万科物业' already exists"):
        tenants.create_tenant(session, "万科物业")


def test_a_key_authenticates_as_its_own_company_only(store):
    first, second = company(store, "甲"), company(store, "乙")
    with store.read() as session:
        tenant, key = tenants.authenticate(session, first["api_key"])
        assert (tenant.id, tenant.name, key.tenant_id) == (first["tenant_id"], "甲", first["tenant_id"])
        assert tenants.authenticate(session, second["api_key"])[0].id == second["tenant_id"]
        assert tenants.authenticate(session, first["api_key"] + "x") is None
        assert tenants.authenticate(session, "") is None


def test_rotating_revokes_every_older_key_at_once(store):
    made = company(store, "甲")
    with store.transaction() as session:
        extra = tenants.issue_key(session, made["tenant_id"], role="company_staff", rate_limit="5/second", label="前台")
        rotated = tenants.rotate_key(session, "甲")
    assert rotated["tenant_id"] == made["tenant_id"]
    assert sorted(rotated["revoked"]) == sorted([made["api_key"][:12], extra[:12]])
    with store.read() as session:
        assert tenants.authenticate(session, made["api_key"]) is None
        assert tenants.authenticate(session, extra) is None
        assert tenants.authenticate(session, rotated["api_key"])[1].role == "company_admin"
    with store.transaction() as session, pytest.raises(NotFound, match="no tenant named '丙'"):
        tenants.rotate_key(session, "丙")


def test_rotating_leaves_every_other_companys_keys_alone_and_old_revocations_as_they_were(store):
    company(store, "甲")
    other = company(store, "乙")
    with store.transaction() as session:
        first = tenants.rotate_key(session, "甲")
    with store.read() as session:
        [revoked_at] = session.scalars(select(ApiKey.revoked_at).where(ApiKey.revoked_at.is_not(None))).all()
    with store.transaction() as session:
        second = tenants.rotate_key(session, "甲")
    assert second["revoked"] == [first["api_key"][:12]]  # not the key the first rotation revoked
    with store.read() as session:
        times = session.scalars(select(ApiKey.revoked_at).where(ApiKey.revoked_at.is_not(None))).all()
    assert revoked_at in times and len(times) == 2
    with store.read() as session:
        assert tenants.authenticate(session, other["api_key"])[0].id == other["tenant_id"]


def test_an_issued_key_keeps_its_role_limit_and_label(store):
    made = company(store, "甲")
    with store.transaction() as session:
        key = tenants.issue_key(session, made["tenant_id"], role="company_staff", rate_limit="5/second", label="前台")
        row = session.scalars(select(ApiKey).where(ApiKey.key_hash == tenants.hash_key(key))).one()
        assert (row.role, row.rate_limit, row.label) == ("company_staff", "5/second", "前台")
        assert tenants.role_of(session, row.id) == "company_staff"
        assert tenants.role_of(session, "nope") is None


def test_an_app_key_is_the_operators_and_lives_under_the_company(store):
    made = company(store, "甲")
    with store.transaction() as session:
        app = tenants.issue_app_key(session, "甲", "小区通", rate_limit="9/second")
    assert (app["tenant_id"], app["app"], app["role"]) == (made["tenant_id"], "小区通", "resident_app")
    with store.read() as session:
        row = session.get(ApiKey, app["key_id"])
        assert (row.role, row.label, row.rate_limit, row.key_hash) == (
            "resident_app",
            "小区通",
            "9/second",
            tenants.hash_key(app["api_key"]),
        )
    with store.transaction() as session, pytest.raises(NotFound, match="no tenant named '丙'"):
        tenants.issue_app_key(session, "丙", "x")


def test_a_company_lists_and_revokes_only_its_own_keys_and_never_the_calling_one(store):
    first, second = company(store, "甲"), company(store, "乙")
    with store.transaction() as session:
        newer = tenants.issue_key(session, first["tenant_id"], role="company_staff")
        keys = tenants.list_keys(session, first["tenant_id"])
        assert [k.prefix for k in keys] == [newer[:12], first["api_key"][:12]]  # newest first
        caller, staff = keys[1], keys[0]
        theirs = tenants.list_keys(session, second["tenant_id"])[0]
        with pytest.raises(NotFound, match=f"key {theirs.id} not found"):
            tenants.revoke_key(session, first["tenant_id"], theirs.id, caller.id)
        with pytest.raises(NotFound, match="key missing not found"):
            tenants.revoke_key(session, first["tenant_id"], "missing", caller.id)
        with pytest.raises(Conflict, match=r"^a key cannot revoke itself: revoke it with another admin key$"):
            tenants.revoke_key(session, first["tenant_id"], caller.id, caller.id)
        revoked = tenants.revoke_key(session, first["tenant_id"], staff.id, caller.id)
        when = revoked.revoked_at
        assert when is not None
        assert tenants.revoke_key(session, first["tenant_id"], staff.id, caller.id).revoked_at == when
    with store.read() as session:
        assert tenants.authenticate(session, newer) is None
        assert tenants.authenticate(session, second["api_key"]) is not None
        assert tenants.find_tenant(session, "乙").id == second["tenant_id"]
        assert tenants.find_tenant(session, "丙") is None


def test_the_key_comes_from_the_bearer_header_or_open311s_parameter():
    assert authentication.presented_key(request({"Authorization": "Bearer  k1 "})) == "k1"
    assert authentication.presented_key(request({"Authorization": "bearer k2"})) == "k2"
    open311 = request(path="/open311/v2/requests.json", method="POST", data={"api_key": "k3", "x": "1"})
    assert authentication.presented_key(open311) == "k3"
    assert open311.get_data() == b"api_key=k3&x=1"  # still there for the idempotency fingerprint
    for refused in (
        request(),
        request({"Authorization": "Basic k"}),
        request({"Authorization": "Bearer   "}),
        request(path="/api/v1/cases", method="POST", data={"api_key": "k3"}),
        request(path="/open311/v2/requests.json", method="POST", data={"x": "1"}),
    ):
        with pytest.raises(Unauthorized, match=r"^send Authorization: Bearer <api key>$"):
            authentication.presented_key(refused)


def test_a_key_caller_is_its_company_with_its_role_or_refused(store):
    made = company(store, "甲", "翠苑")
    limiter = Limiter("100/second")
    caller = authentication.key_caller(bearer(made["api_key"]), store, limiter, "GET", CASE)
    with store.read() as session:
        _, key = tenants.authenticate(session, made["api_key"])
    assert caller == Caller(
        tenant=made["tenant_id"],
        actor=f"甲/{made['api_key'][:12]}",
        role="company_admin",
        key_id=key.id,
        community="翠苑",
    )
    with pytest.raises(Unauthorized, match=r"^unknown or revoked API key$"):
        authentication.key_caller(bearer(tenants.KEY_PREFIX + "nobody"), store, limiter, "GET", CASE)
    with pytest.raises(Forbidden):
        authentication.key_caller(bearer(made["api_key"]), store, limiter, "DELETE", CASE)


def test_a_key_over_its_own_limit_is_refused_before_its_role_is_looked_at(store):
    made = company(store, "甲")
    with store.transaction() as session:
        slow = tenants.issue_key(session, made["tenant_id"], role="company_staff", rate_limit="2/minute")
        twin = tenants.issue_key(session, made["tenant_id"], role="company_staff", rate_limit="2/minute")
    limiter = Limiter("100/second")
    for _ in range(2):
        authentication.key_caller(bearer(slow), store, limiter, "GET", CASE)
    with pytest.raises(TooManyRequests):
        authentication.key_caller(bearer(slow), store, limiter, "POST", "/api/v1/keys")
    # Each key has its own count: another key with the same limit, and the admin's, are not slowed.
    authentication.key_caller(bearer(twin), store, limiter, "GET", CASE)
    authentication.key_caller(bearer(made["api_key"]), store, limiter, "GET", CASE)


def app_with_resident(store):
    company(store, "甲")
    with store.transaction() as session:
        app = tenants.issue_app_key(session, "甲", "小区通")
        other = tenants.issue_app_key(session, "甲", "别的应用")
        now = utcnow()
        person = sessions.person_for(session, "+8613912345678", now)
        token = sessions.start(session, person, now, app_key_id=app["key_id"])
        browser = sessions.start(session, person, now)
    return app, other, token, browser, person.id


def test_an_app_acts_only_for_its_own_signed_in_resident(store):
    app, other, token, browser, person = app_with_resident(store)
    limiter = Limiter("100/second")
    headers = {"Authorization": f"Bearer {app['api_key']}", authentication.RESIDENT_TOKEN: f" {token} "}
    caller = authentication.authenticate(request(headers), store, limiter, "GET", CASE)
    assert (caller.role, caller.resident_phone, caller.person, caller.key_id) == (
        "resident_app",
        "+8613912345678",
        person,
        app["key_id"],
    )
    assert caller.person_session == sessions.digest(token)
    for wrong in (browser, "x" * 200):  # a browser's token, a nonsense one
        headers[authentication.RESIDENT_TOKEN] = wrong
        with pytest.raises(Unauthorized, match="is unknown, signed out, expired or another app's"):
            authentication.authenticate(request(headers), store, limiter, "GET", CASE)
    other_headers = {"Authorization": f"Bearer {other['api_key']}", authentication.RESIDENT_TOKEN: token}
    with pytest.raises(Unauthorized, match="another app's"):
        authentication.authenticate(request(other_headers), store, limiter, "GET", CASE)
    del headers[authentication.RESIDENT_TOKEN]
    with pytest.raises(Unauthorized, match=r"^an app acts for a resident only with Lianxin-Resident-Token"):
        authentication.authenticate(request(headers), store, limiter, "GET", CASE)
    # ... except to sign the resident in, where the key alone is enough.
    signing_in = authentication.authenticate(request(headers), store, limiter, "POST", "/api/v1/sign-in")
    assert signing_in.resident_phone is None and signing_in.role == "resident_app"


def test_a_company_key_never_carries_a_resident(store):
    _, _, token, _, _ = app_with_resident(store)
    with store.read() as session:
        admin = session.scalars(select(ApiKey).where(ApiKey.role == "company_admin")).one()
    with store.transaction() as session:
        key = tenants.issue_key(session, admin.tenant_id)
    headers = {"Authorization": f"Bearer {key}", authentication.RESIDENT_TOKEN: token}
    caller = authentication.authenticate(request(headers), store, Limiter("100/second"), "GET", CASE)
    assert (caller.resident_phone, caller.person, caller.person_session) == (None, None, None)


def test_the_limiter_is_found_among_the_containers_dependencies():
    limits = RateLimits()
    limits.limiter = Limiter("1/second")

    class Container:
        service_name = "gateway"
        dependencies = [object(), limits]

    assert authentication.limiter_of(Container()) is limits.limiter
    Container.dependencies = [object()]
    with pytest.raises(LookupError, match=r"^service gateway declares no RateLimits dependency$"):
        authentication.limiter_of(Container())


def test_needs_key_is_exactly_the_tables_routes():
    assert authorization.needs_key("GET", CASE)
    assert authorization.needs_key("POST", "/api/v1/sign-in")
    assert not authorization.needs_key("DELETE", CASE)
    assert not authorization.needs_key("GET", "/healthz")
