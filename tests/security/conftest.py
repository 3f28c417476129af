"""Fixtures of the security suite: a tenant with one of everything, and another tenant."""

from __future__ import annotations

import pytest

from tests.support.api import Api, new_company
from tests.support.people import confirm, sign_in
from tests.support.probes import one_of_everything


@pytest.fixture(scope="package")
def victim(platform):
    """A tenant with one of everything: the ids another tenant will try."""
    return one_of_everything(platform)


@pytest.fixture(scope="package")
def intruder(platform):
    """Another company of the same community, its resident app, and the party branch of another community.

    ``intruder.for_path(path)`` is the key to try a route with: the supervisor's for the
    community routes, the resident app's (with its signed-in resident) for votes (a company key
    is refused those by role, which proves nothing about data).
    """
    import uuid

    from services.gateway import tenants

    company = new_company(platform)
    with platform.store("gateway").transaction() as session:
        branch = tenants.create_tenant(
            session, f"别的社区党委-{uuid.uuid4().hex[:6]}", f"别的社区-{uuid.uuid4().hex[:6]}"
        )
        company.supervisor = Api(platform, tenants.issue_key(session, branch["tenant_id"], role="supervisor"))
        company.resident = Api(platform, tenants.issue_key(session, company.tenant_id, role="resident_app"))
        app_key_id = tenants.authenticate(session, company.resident.key)[1].id
    confirm(platform, "政通路社区", company.tenant_id, company.estate_id, ("1-1-101", "13912349101"))
    company.resident.headers |= {
        "Lianxin-Resident": "13912349101",
        "Lianxin-Resident-Token": sign_in(platform, "13912349101", app_key_id).token,
    }

    def for_path(path: str) -> Api:
        if path.startswith("/api/v1/community/"):
            return company.supervisor
        return company.resident if path.endswith("/votes") else company

    company.for_path = for_path
    return company
