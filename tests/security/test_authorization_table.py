"""Role × endpoint × own/other tenant, over HTTP, for every authenticated endpoint.

A role the table refuses gets 403 before anything is looked up; a role it allows is never
refused for its role and gets one of the statuses ``/openapi.json`` documents for the route (it
may still get 404/409/422 for what it sent), never a 5xx; with another tenant's ids it gets 404.
"""

from __future__ import annotations

import re

import pytest

from services.gateway import tenants
from services.gateway.authorization import POLICY, ROLES
from services.gateway.openapi import spec
from tests.support.api import Api, resident_app
from tests.support.probes import owns_an_id, send

pytestmark = pytest.mark.integration

RESIDENT = "13912349001"  # the victim's case reporter (see conftest)


@pytest.fixture(scope="module")
def keys(platform, victim):
    """One key per role for the victim tenant; the app's (operator-issued) with its resident's token."""
    made = {}
    with platform.store("gateway").transaction() as session:
        for role in ROLES:
            if role != "resident_app":
                made[role] = Api(platform, tenants.issue_key(session, victim.tenant_id, role=role))
    made["resident_app"] = resident_app(platform, victim.tenant_id, RESIDENT)
    return made


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path"), sorted(POLICY))
def test_each_role_on_each_endpoint_of_its_own_tenant(platform, keys, victim, role, method, path):
    missing = [n for n in re.findall(r"\{(\w+)\}", path) if n not in victim.ids]
    if missing:
        pytest.fail(f"no id to try for {missing}: add one to the victim fixture")
    api = keys[role]
    if (role, method, path) == ("resident_app", "DELETE", "/api/v1/sign-in"):  # signs out: not the shared token
        api = resident_app(platform, victim.tenant_id, RESIDENT, key=api.app_key)
    response = send(api, method, path, victim.ids)
    documented = set(spec()["paths"][path][method.lower()]["responses"])
    status = response.status_code
    if role in POLICY[(method, path)]:
        assert status < 500 and status not in (401, 403), (role, method, path, status, response.text)
        assert str(status) in documented, f"{role} {method} {path}: {status} is not documented ({sorted(documented)})"
    else:
        assert status == 403 and "403" in documented, (role, method, path, status, sorted(documented), response.text)
        said = response.json()[0]["description"] if path.startswith("/open311/") else response.json()["detail"]
        assert said == f"a {role} key may not call {method} {path}"


@pytest.mark.parametrize(("method", "path"), sorted(k for k in POLICY if owns_an_id(k[1])))
def test_an_allowed_role_with_another_tenants_ids_gets_404(keys, intruder, victim, method, path):
    del keys
    response = send(intruder.for_path(path), method, path, victim.ids)
    assert response.status_code == 404, (method, path, response.status_code, response.text)


def test_a_resident_app_reads_only_its_residents_cases(platform, victim, keys):
    app = keys["resident_app"]
    own = app.get(f"/api/v1/cases/{victim.ids['case_id']}")
    assert own.status_code == 200 and own.json()["reporter"]["phone"] == "+86" + RESIDENT
    other = resident_app(platform, victim.tenant_id, "13912349002", key=app.app_key)  # same app, another resident
    refused = other.get(f"/api/v1/cases/{victim.ids['case_id']}")
    assert refused.status_code == 404
    listed = app.get("/api/v1/cases", params={"reporter_phone": "13912349002"}).json()["data"]
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
    forced = app.post("/api/v1/cases", body)  # the reporter is the signed-in resident, whatever is sent
    assert forced.status_code == 201 and forced.json()["reporter"]["phone"] == "+86" + RESIDENT
    assert app.get("/api/v1/cases").json()["data"][0]["id"] == forced.json()["id"]
    nobody = Api(platform, app.app_key)
    missing = nobody.get(f"/api/v1/cases/{victim.ids['case_id']}")
    assert missing.status_code == 401 and "Lianxin-Resident-Token" in missing.json()["detail"]
    named = nobody.get(f"/api/v1/cases/{victim.ids['case_id']}", headers={"Lianxin-Resident": RESIDENT})
    assert named.status_code == 401  # naming a phone is no consent


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
    app = admin.post("/api/v1/keys", {"role": "resident_app"})
    assert app.status_code == 403 and "platform operator" in app.json()["detail"]
    app_key = next(k for k in admin.get("/api/v1/keys").json()["data"] if k["role"] == "resident_app")
    assert admin.post(f"/api/v1/keys/{app_key['id']}/revoke", {}).status_code == 403
    bad = admin.post("/api/v1/keys", {"role": "supervisor", "rate_limit": "lots"})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"role", "rate_limit"}
