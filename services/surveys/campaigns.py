"""Campaigns: a periodic estate-wide satisfaction survey (e.g. the quarterly 邀业主评事).

Every household listed gets its own survey (and token), so each household answers once: the
unique (campaign, estate, household) makes a second survey for a household impossible, and a
survey takes one answer. Campaign surveys are ordinary surveys (category ``campaign``, the
campaign's id in ``case_id``), so answering, reminders, expiry, bursts and the statistics
work for them unchanged. Progress is one GROUP BY over the campaign's surveys.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.common.errors import NotFound
from services.common.ids import new_id
from services.surveys import issuing, settings, tallies, templates
from services.surveys.issuing import Emit
from services.surveys.models import Survey, SurveyCampaign
from services.surveys.schemas import CampaignSchema

CATEGORY = "campaign"


def distinct_households(households: list[dict]) -> tuple[list[dict], int]:
    """One entry per (estate, household), the first contact listed; and how many were dropped."""
    seen: dict[tuple[str, str], dict] = {}
    for entry in households:
        seen.setdefault((entry["estate_id"], entry["household"]), entry)
    return list(seen.values()), len(households) - len(seen)


def create(
    session: Session, emit: Emit, tenant: str, data: dict, base_url: str, now: datetime, default_expiry_days: int = 7
) -> dict:
    """Create the campaign and one survey per household, each link sent at once."""
    households, duplicates = distinct_households(data["households"])
    timing = settings.of(session, tenant, default_expiry_days)
    expiry_days = data.get("expiry_days") or timing.expiry_days
    plan = issuing.plan(settings.Timing(0, expiry_days, timing.reminder_after_hours), now)
    version = templates.current(session, tenant)["version"]
    campaign = SurveyCampaign(
        id=new_id(),
        tenant=tenant,
        title=data["title"],
        estate_ids=sorted({h["estate_id"] for h in households}),
        households=len(households),
        template_version=version,
        expires_at=plan["expires_at"],
        created_at=now,
    )
    session.add(campaign)
    changes = tallies.Changes()
    for household in households:
        survey = Survey(
            id=new_id(),
            tenant=tenant,
            case_id=campaign.id,
            campaign_id=campaign.id,
            estate_id=household["estate_id"],
            closure_event_id=new_id(),
            status="issued",
            case_title=campaign.title,
            category=CATEGORY,
            template_version=version,
            month=issuing.month_of(now),
            respondent_name=household["name"],
            respondent_phone=household["phone"],
            respondent_household=household["household"],
            flagged_burst=False,
            verified=False,
            created_at=now,
            link_sent_at=now,
            **plan,
        )
        session.add(survey)
        issuing.announce(session, emit, survey, base_url, now)
        changes.after(survey)
    session.flush()
    changes.apply(session)
    return progress(session, tenant, campaign.id, now) | {"duplicates_skipped": duplicates}


def campaign_of(session: Session, tenant: str, campaign_id: str) -> SurveyCampaign:
    campaign = session.get(SurveyCampaign, campaign_id)
    if campaign is None or campaign.tenant != tenant:
        raise NotFound(f"survey campaign {campaign_id} not found")
    return campaign


def progress(session: Session, tenant: str, campaign_id: str, now: datetime) -> dict:
    """The campaign with its response rate, overall and per estate."""
    campaign = campaign_of(session, tenant, campaign_id)
    answered = func.sum(case((Survey.status == "answered", 1), else_=0))
    rows = session.execute(
        select(Survey.estate_id, func.count(), answered)
        .where(Survey.campaign_id == campaign.id)
        .group_by(Survey.estate_id)
        .order_by(Survey.estate_id)
    ).all()
    estates = [
        {"estate_id": estate, "households": total, "answered": int(done), "response_rate": round(done / total, 4)}
        for estate, total, done in rows
    ]
    answered_total = sum(e["answered"] for e in estates)
    view = CampaignSchema().dump(campaign)
    view |= {
        "answered": answered_total,
        "response_rate": round(answered_total / campaign.households, 4) if campaign.households else None,
        "open": now < campaign.expires_at,
        "estates": estates,
    }
    return view


def listing(session: Session, tenant: str, now: datetime) -> list[dict]:
    ids = session.scalars(
        select(SurveyCampaign.id).where(SurveyCampaign.tenant == tenant).order_by(SurveyCampaign.id.desc())
    ).all()
    return [progress(session, tenant, campaign_id, now) for campaign_id in ids]
