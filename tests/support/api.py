"""A property company's view of the gateway in tests: its key, a fresh company (with an estate and
two visit volunteers, or in a community of its own) and a resident app acting for one phone.

Made directly in the gateway's database where the API has no way (a new tenant, an app key),
then used only over HTTP, as the company's own systems would.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from services.common.db import utcnow
from services.common.fields import mainland_mobile
from services.gateway import sessions, tenants
from services.gateway.models import ApiKey, Tenant
from tests.support.infra import Platform


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


def new_company(platform: Platform) -> Api:
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


def company_in(platform: Platform, community: str, name: str) -> Api:
    with platform.store("gateway").transaction() as session:
        created = tenants.create_tenant(session, name, community)
    api = Api(platform, created["api_key"])
    api.tenant_id = created["tenant_id"]
    api.estate_id = api.post("/api/v1/estates", {"name": f"{name[:2]}花园", "households": 300}).json()["id"]
    return api


def resident_app(platform: Platform, tenant_id: str, phone: str, key: str | None = None) -> Api:
    """An operator-issued app key of ``tenant_id`` acting for ``phone`` (its token made directly).

    ``api.app_key`` is the key alone, ``api.token`` the resident's ``Lianxin-Resident-Token``.
    """
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
