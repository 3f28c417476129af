"""Role × endpoint × own/other tenant, over HTTP, for every authenticated endpoint.

A role the table refuses gets 403 before anything is looked up; a role it allows is never
refused for its role (it may still get 404/409/422 for what it sent), and with another
tenant's ids it gets 404.
"""

from __future__ import annotations

import re

import pytest

from services.gateway import tenants
from services.gateway.authorization import POLICY, ROLES
from tests.conftest import Api
from tests.residents import sign_in
from tests.security.probes import owns_an_id, send

pytestmark = pytest.mark.integration

RESIDENT = "13912349001"  # the victim's case reporter (see conftest)


@pytest.fixture(scope="module")
def keys(platform, victim):
    """One key per role for the victim tenant."""
    made = {}
    with platform.store("gateway").transaction() as session:
        for role in ROLES:
            made[role] = Api(platform, tenants.issue_key(session, victim.tenant_id, role=role))
        app_key_id = tenants.authenticate(session, made["resident_app"].key)[1].id
    # The resident app acts for the case's reporter, signed in through it (the community confirmed them in 1-1-101).
    made["resident_app"].headers["Lianxin-Resident"] = RESIDENT
    made["resident_app"].headers["Lianxin-Resident-Token"] = sign_in(platform, RESIDENT, app_key_id).token
    return made


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), sorted(POLICY))
def test_each_role_on_each_endpoint_of_its_own_tenant(keys, victim, role, method, path):
    missing = [n for n in re.findall(r"\{(\w+)\}", path) if n not in victim.ids]
    if missing:
        pytest.fail(f"no id to try for {missing}: add one to the victim fixture")
    response = send(keys[role], method, path, victim.ids)
    if role in POLICY[(method, path)]:
        assert response.status_code not in (401, 403), (role, method, path, response.text)
    else:
        assert response.status_code == 403, (role, method, path, response.status_code, response.text)
        said = response.json()[0]["description"] if path.startswith("/open311/") else response.json()["detail"]
        assert said == f"a {role} key may not call {method} {path}"


@pytest.mark.parametrize(("method", "path"), sorted(k for k in POLICY if owns_an_id(k[1])))
def test_an_allowed_role_with_another_tenants_ids_gets_404(keys, intruder, victim, method, path):
    del keys
    response = send(intruder.for_path(path), method, path, victim.ids)
    assert response.status_code == 404, (method, path, response.status_code, response.text)


def test_a_resident_app_reads_only_its_residents_cases(platform, victim, keys):
    own = keys["resident_app"].get(f"/api/v1/cases/{victim.ids['case_id']}")
    assert own.status_code == 200 and own.json()["reporter"]["phone"] == "+86" + RESIDENT
    other = Api(platform, keys["resident_app"].headers["Authorization"].removeprefix("Bearer "))
    other.headers["Lianxin-Resident"] = "13912349002"
    refused = other.get(f"/api/v1/cases/{victim.ids['case_id']}")
    assert refused.status_code == 404
    listed = keys["resident_app"].get("/api/v1/cases", params={"reporter_phone": "13912349002"}).json()["data"]
    assert [c["id"] for c in listed] == [victim.ids["case_id"]]  # its own resident's, whatever it asks
    assert other.get("/api/v1/cases").json()["data"] == []
    body = {
        "estate_id": victim.ids["estate_id"],
        "category": "repair",
        "title": "漏水",
        "description": "厨房漏水",
        "channel": "app",
        "reporter": {"name": "邻居", "phone": "13912349002", "household": "1-1-101"},
    }
    assert keys["resident_app"].post("/api/v1/cases", body).status_code == 403
    assert other.post("/api/v1/cases", body).status_code == 201
    nobody = Api(platform, other.headers["Authorization"].removeprefix("Bearer "))
    missing = nobody.get(f"/api/v1/cases/{victim.ids['case_id']}")
    assert missing.status_code == 422 and "Lianxin-Resident" in missing.json()["errors"]


def test_a_revoked_key_is_refused_and_keys_are_listed_by_prefix_only(platform, keys):
    admin = keys["company_admin"]
    made = admin.post("/api/v1/keys", {"role": "company_staff", "rate_limit": "100/second"})
    assert made.status_code == 201, made.text
    created = made.json()
    assert created["api_key"].startswith("lx_live_") and created["prefix"] == created["api_key"][:12]
    listed = admin.get("/api/v1/keys").json()["data"]
    assert created["id"] in [k["id"] for k in listed]
    assert all("api_key" not in k and "key_hash" not in k for k in listed)
    staff = Api(platform, created["api_key"])
    assert staff.get("/api/v1/me").json()["role"] == "company_staff"
    assert admin.post(f"/api/v1/keys/{created['id']}/revoke", {}).json()["revoked_at"]
    assert staff.get("/api/v1/me").status_code == 401
    me = admin.get("/api/v1/me").json()
    own_key = [k for k in listed if k["prefix"] == me["key_prefix"]][0]
    assert admin.post(f"/api/v1/keys/{own_key['id']}/revoke", {}).status_code == 409
    bad = admin.post("/api/v1/keys", {"role": "supervisor", "rate_limit": "lots"})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"role", "rate_limit"}
