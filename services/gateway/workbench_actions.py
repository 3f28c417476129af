"""Who changed what at the workbench: one record per form a member submitted that changed something.

The workbench's routes name the membership a request acts as (:func:`acting`); the HTTP
entrypoint (:class:`services.gateway.http.Endpoint`) then records every workbench POST that
answered 2xx or 3xx (:func:`record`), so no handler has to remember to. Refused forms (403, 404,
409, 422) changed nothing and are not recorded. Switching membership changes no data and is
not a change either. :data:`LABELS` names each change for the settings' 操作记录 page; a test
holds it to the routes, so a new form is named the day it is added.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Request

from services.common.ids import new_id
from services.gateway import staff
from services.gateway.models import WorkbenchAction

log = logging.getLogger(__name__)

ENVIRON = "lianxin.workbench_member"  # the membership a workbench request acts as
NOT_A_CHANGE = frozenset({"/workbench/switch"})
SHOWN = 100  # the newest changes the page lists

LABELS = {
    "/workbench/cases/<string:case_id>/transitions": "处理案件",
    "/workbench/cases/<string:case_id>/comments": "回复或备注案件",
    "/workbench/incidents": "发布事件",
    "/workbench/incidents/<string:incident_id>/updates": "更新事件进展",
    "/workbench/incidents/<string:incident_id>/cases": "并入重复案件",
    "/workbench/incidents/<string:incident_id>/resolve": "解除事件",
    "/workbench/broadcasts": "发送通知",
    "/workbench/volunteers": "登记志愿者",
    "/workbench/volunteers/<string:volunteer_id>": "修改志愿者",
    "/workbench/teams": "新建队伍",
    "/workbench/teams/<string:team_id>": "修改队伍",
    "/workbench/teams/<string:team_id>/members": "加入队员",
    "/workbench/teams/<string:team_id>/members/<string:volunteer_id>/remove": "移出队员",
    "/workbench/activities": "新建活动",
    "/workbench/activity-series": "新建系列活动",
    "/workbench/activities/<string:activity_id>/publish": "发布活动",
    "/workbench/activities/<string:activity_id>/cancel": "取消活动",
    "/workbench/activities/<string:activity_id>/shifts/<string:shift_id>/volunteers": "安排志愿者班次",
    "/workbench/activities/<string:activity_id>/attendance": "记录出勤",
    "/workbench/settings/staff": "邀请成员",
    "/workbench/settings/staff/<string:membership_id>/revoke": "撤销成员",
    "/workbench/settings/categories": "新增案件类别",
    "/workbench/settings/categories/<string:code>": "修改案件类别",
    "/workbench/settings/notifications": "修改通知设置",
    "/workbench/settings/surveys": "修改回访评价设置",
    "/workbench/settings/keys": "创建 API 密钥",
    "/workbench/settings/keys/<string:key_id>/revoke": "撤销 API 密钥",
    "/workbench/settings/webhooks": "创建 Webhook",
    "/workbench/settings/webhooks/<string:webhook_id>/delete": "删除 Webhook",
    "/workbench/settings/webhooks/<string:webhook_id>/enable": "重新启用 Webhook",
    "/workbench/settings/webhooks/<string:webhook_id>/secret": "更换 Webhook 签名密钥",
    "/workbench/branch/cases/<string:case_id>/instructions": "督办批示",
    "/workbench/branch/claims/<string:claim_id>/confirm": "确认住户",
    "/workbench/branch/claims/<string:claim_id>/reject": "驳回住户申请",
}


def acting(request: Request, member: staff.Membership) -> staff.Membership:
    """Name the membership this request acts as (what :func:`record` records)."""
    request.environ[ENVIRON] = member
    return member


def is_change(request: Request, route: str, status: int) -> bool:
    """A workbench form that was accepted: a POST under /workbench, answered 2xx or 3xx."""
    return (
        request.method == "POST"
        and route.startswith("/workbench")
        and route not in NOT_A_CHANGE
        and 200 <= status < 400
        and isinstance(request.environ.get(ENVIRON), staff.Membership)
    )


def record(session: Session, request: Request, route: str, status: int, now: datetime) -> WorkbenchAction:
    member: staff.Membership = request.environ[ENVIRON]
    row = WorkbenchAction(
        id=new_id(), at=now, person_id=member.person_id, membership_id=member.id, actor=member.actor,
        tenant_id=member.tenant_id, community=None if member.tenant_id else member.community,
        route=route, path=request.path[:500], status=status,
    )  # fmt: skip
    session.add(row)
    return row


@dataclass(frozen=True)
class Shown:
    at: datetime
    name: str
    what: str
    path: str


def recent(session: Session, member: staff.Membership) -> list[Shown]:
    """The newest changes made for the member's company (or, for a supervisor, their community)."""
    query = select(WorkbenchAction).order_by(WorkbenchAction.at.desc(), WorkbenchAction.id.desc()).limit(SHOWN)
    if member.tenant_id:
        query = query.where(WorkbenchAction.tenant_id == member.tenant_id)
    else:
        query = query.where(WorkbenchAction.tenant_id.is_(None), WorkbenchAction.community == member.community)
    return [
        Shown(row.at, row.actor.split("/", 1)[-1], LABELS.get(row.route, row.route), row.path)
        for row in session.scalars(query)
    ]
