"""Case categories per tenant, with their SLA policy per priority and optional auto-assign team.

Every tenant starts with the defaults below; a tenant's own row for a code overrides it. The
codes used before categories were configurable (``repair``, ``complaint``, ``suggestion``,
``consultation``, ``emergency``) are default codes, so old request bodies keep working.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.db import utcnow
from services.requests.models import CaseCategory
from services.requests.sla import Policy

PRIORITIES = ("low", "normal", "high", "urgent")
#: A priority scales the category's normal-priority hours: urgent work is due four times sooner.
PRIORITY_FACTORS = {"low": 2.0, "normal": 1.0, "high": 0.5, "urgent": 0.25}

# code, name, hours to accept, hours to resolve (normal priority)
DEFAULTS: tuple[tuple[str, str, float, float], ...] = (
    ("repair", "水电维修", 2, 48),
    ("facilities", "公共设施", 4, 72),
    ("sanitation", "环境卫生", 4, 24),
    ("safety", "安全隐患", 1, 24),
    ("noise", "噪音扰民", 2, 24),
    ("parking", "停车管理", 4, 72),
    ("complaint", "投诉", 2, 72),
    ("suggestion", "建议", 24, 168),
    ("consultation", "咨询", 4, 24),
    ("emergency", "紧急", 0.5, 4),
)


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    sla: dict[str, Policy]
    active: bool = True
    team: str | None = None
    custom: bool = False
    extra: dict = field(default_factory=dict)

    def policy(self, priority: str) -> Policy:
        return self.sla.get(priority) or self.sla["normal"]


def default_sla(response_hours: float, resolution_hours: float) -> dict[str, Policy]:
    return {
        priority: Policy(response_hours * factor, resolution_hours * factor)
        for priority, factor in PRIORITY_FACTORS.items()
    }


DEFAULT_CATEGORIES = {code: Category(code, name, default_sla(r, s)) for code, name, r, s in DEFAULTS}


def _from_row(row: CaseCategory) -> Category:
    base = DEFAULT_CATEGORIES.get(row.code)
    sla = dict(base.sla) if base else {}
    for priority, hours in (row.sla or {}).items():
        sla[priority] = Policy(float(hours["response_hours"]), float(hours["resolution_hours"]))
    return Category(row.code, row.name, sla, row.active, row.team, custom=True)


def effective(session: Session, tenant: str) -> dict[str, Category]:
    """The tenant's categories: defaults overlaid by its own rows, in a stable order."""
    found = dict(DEFAULT_CATEGORIES)
    for row in session.scalars(select(CaseCategory).where(CaseCategory.tenant == tenant).order_by(CaseCategory.id)):
        found[row.code] = _from_row(row)
    return found


def active_codes(session: Session, tenant: str) -> set[str]:
    return {code for code, category in effective(session, tenant).items() if category.active}


def configure(session: Session, tenant: str, code: str, data: dict) -> dict:
    """Create or change a tenant's category; an SLA given for some priorities keeps the rest."""
    row = session.scalars(
        select(CaseCategory).where(CaseCategory.tenant == tenant, CaseCategory.code == code).with_for_update()
    ).first()
    current = effective(session, tenant).get(code)
    if row is None:
        row = CaseCategory(tenant=tenant, code=code, sla={})
        session.add(row)
    row.name = data.get("name") or (current.name if current else code)
    row.active = data.get("active", True)
    row.team = data.get("team", current.team if current else None)
    sla = dict(row.sla or {})
    for priority, hours in (data.get("sla") or {}).items():
        sla[priority] = {"response_hours": hours["response_hours"], "resolution_hours": hours["resolution_hours"]}
    if current is None and "normal" not in sla:
        sla["normal"] = {"response_hours": 4, "resolution_hours": 72}
    row.sla = sla
    row.updated_at = utcnow()
    session.flush()
    return to_dict(_from_row(row))


def to_dict(category: Category) -> dict:
    return {
        "code": category.code,
        "name": category.name,
        "active": category.active,
        "team": category.team,
        "custom": category.custom,
        "sla": {
            priority: {"response_hours": policy.response_hours, "resolution_hours": policy.resolution_hours}
            for priority, policy in category.sla.items()
        },
    }


def list_categories(session: Session, tenant: str) -> list[dict]:
    return [to_dict(category) for category in effective(session, tenant).values()]
