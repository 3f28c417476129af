"""Per-key rate limits: over the limit is 429 with Retry-After, and other keys are untouched."""

from __future__ import annotations

import uuid

import pytest

from services.gateway import tenants
from tests.support.api import Api

pytestmark = pytest.mark.integration


def test_a_key_over_its_limit_gets_429_with_retry_after_and_others_do_not(platform, company):
    with platform.store("gateway").transaction() as session:
        created = tenants.create_tenant(session, f"限流物业-{uuid.uuid4().hex[:8]}", "政通路社区")
        slow = tenants.issue_key(session, created["tenant_id"], rate_limit="3/minute")
    api = Api(platform, slow)
    statuses = [api.get("/api/v1/estates").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = api.get("/api/v1/estates")
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["title"] == "Too many requests"
    assert Api(platform, created["api_key"]).get("/api/v1/estates").status_code == 200
    assert company.get("/api/v1/estates").status_code == 200
