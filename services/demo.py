"""The demo community: 政通路社区 with three property companies, their estates and volunteers.

Seeding is idempotent: run it again and nothing is duplicated. Demo keys are fixed strings
so `make run` can print them every time; real keys come from `lianxin tenant create`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from services.common.db import Store
from services.gateway import tenants
from services.requests.models import Estate
from services.volunteers.models import Volunteer

COMMUNITY = "政通路社区"
BRANCH = "政通路社区党委"  # the party branch: a supervisor key for the league and the dashboard
SUPERVISOR_KEY = "lx_live_demo_branch_00000000000000"
RESIDENT_APP_KEY = "lx_live_demo_app_dihua_000000000001"  # 缔华物业's resident app


@dataclass(frozen=True)
class DemoCompany:
    name: str
    key: str
    estate: str
    households: int
    volunteers: tuple[tuple[str, str], ...]


COMPANIES = (
    DemoCompany(
        "缔华物业",
        "lx_live_demo_dihua_0000000000000001",
        "东方现代城",
        1200,
        (("张红梅", "+8613800000101"), ("李建国", "+8613800000102")),
    ),
    DemoCompany(
        "鑫苑物业",
        "lx_live_demo_xinyuan_00000000000002",
        "天玺华府",
        900,
        (("王秀兰", "+8613800000201"), ("赵志强", "+8613800000202")),
    ),
    DemoCompany("新生活物业", "lx_live_demo_xinshenghuo_000000003", "政通花园", 800, (("刘桂芳", "+8613800000301"),)),
)


def seed(gateway: Store, requests: Store, volunteers: Store) -> list[dict]:
    """Create what is missing; returns one line per company (tenant id, key, estate id)."""
    from services.common.ids import new_id

    out = []
    with gateway.transaction() as session:
        if tenants.find_tenant(session, BRANCH) is None:
            branch = tenants.create_tenant(session, BRANCH, COMMUNITY)
            tenants.issue_key(session, branch["tenant_id"], role="supervisor", key=SUPERVISOR_KEY)
    for company in COMPANIES:
        with gateway.transaction() as session:
            tenant = tenants.find_tenant(session, company.name)
            if tenant is None:
                tenant_id = tenants.create_tenant(session, company.name, COMMUNITY, key=company.key)["tenant_id"]
                if company is COMPANIES[0]:
                    app = "连心演示App"  # the operator's demo app for this company's residents
                    tenants.issue_key(session, tenant_id, role="resident_app", key=RESIDENT_APP_KEY, label=app)
            else:
                tenant_id = tenant.id
        with requests.transaction() as session:
            estate = session.scalars(
                select(Estate).where(Estate.tenant == tenant_id, Estate.name == company.estate)
            ).first()
            if estate is None:
                estate = Estate(id=new_id(), tenant=tenant_id, name=company.estate, households=company.households)
                session.add(estate)
            estate_id = estate.id
        with volunteers.transaction() as session:
            for name, phone in company.volunteers:
                exists = session.scalar(
                    select(Volunteer.id).where(Volunteer.tenant == tenant_id, Volunteer.phone == phone)
                )
                if not exists:
                    session.add(
                        Volunteer(
                            id=new_id(),
                            tenant=tenant_id,
                            name=name,
                            phone=phone,
                            estate_ids=[estate_id],
                            skills=["visit", "repair"],
                            active=True,
                        )
                    )
        out.append(
            {
                "company": company.name,
                "tenant_id": tenant_id,
                "api_key": company.key,
                "estate": company.estate,
                "estate_id": estate_id,
            }
        )
    return out
