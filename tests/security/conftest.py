"""Fixtures of the security suite: a tenant with one of everything, and another tenant."""

from __future__ import annotations

import pytest

from services.common.testing import wait_for


@pytest.fixture(scope="package")
def victim(platform):
    """A tenant with one of everything: the ids another tenant will try."""
    from tests.conftest import new_company

    company = new_company(platform)
    case = company.case(company.estate_id, phone="13912349001")
    company.close(case["id"])
    visit = wait_for(lambda: company.get(f"/api/v1/cases/{case['id']}/visits").json()["data"])[0]
    wait_for(lambda: company.get(f"/api/v1/cases/{case['id']}/surveys").json()["data"])
    company.ids = {
        "case_id": case["id"],
        "visit_id": visit["id"],
        "volunteer_id": company.volunteers[0]["id"],
        "estate_id": company.estate_id,
    }
    with platform.store("gateway").transaction() as session:
        from services.gateway import tenants

        spare = tenants.issue_key(session, company.tenant_id, role="company_staff")
        company.ids["key_id"] = tenants.authenticate(session, spare)[1].id  # a key the tests may revoke
    return company


@pytest.fixture(scope="package")
def intruder(platform):
    from tests.conftest import new_company

    return new_company(platform)
