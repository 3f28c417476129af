"""The checker: reads every service's database and counts, per closed case, what the loop produced."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from services.common.db import Store, make_engine
from services.notifications.models import Delivery
from services.surveys.models import Outbox as SurveysOutbox
from services.surveys.models import Survey
from services.volunteers.models import Visit


@dataclass
class Tally:
    closed: int
    lost: int
    duplicated: int
    unexpected: int
    complete: bool


def _store(url: str) -> Store:
    return Store(make_engine(url))


def count(urls: dict[str, str], tenant: str) -> tuple[Counter, Counter, Counter]:
    """Visits, surveys and survey-link notifications (in-app) per case id, for one tenant."""
    stores = {name: _store(urls[name]) for name in ("volunteers", "surveys", "notifications")}
    try:
        with stores["volunteers"].read() as session:
            visits = Counter(session.scalars(select(Visit.case_id).where(Visit.tenant == tenant)).all())
        with stores["surveys"].read() as session:
            surveys = Counter(session.scalars(select(Survey.case_id).where(Survey.tenant == tenant)).all())
            issued = {
                row.event_id: row.body["data"]["case_id"]
                for row in session.scalars(
                    select(SurveysOutbox).where(SurveysOutbox.tenant == tenant, SurveysOutbox.type == "survey.issued")
                )
            }
        with stores["notifications"].read() as session:
            triggers = session.scalars(
                select(Delivery.trigger_id).where(
                    Delivery.tenant == tenant, Delivery.kind == "survey.issued", Delivery.channel == "inapp"
                )
            ).all()
        notified = Counter(issued[t] for t in triggers if t in issued)
    finally:
        for store in stores.values():
            store.engine.dispose()
    return visits, surveys, notified


def last_effects(urls: dict[str, str], tenant: str) -> dict[str, datetime]:
    """When each case's follow-up last changed: its visit, or its survey-link notification (the
    end of the chain), whichever came later (UTC, as the services write it)."""
    stores = {name: _store(urls[name]) for name in ("volunteers", "surveys", "notifications")}
    last: dict[str, datetime] = {}

    def seen(case_id: str, at: datetime | None) -> None:
        if at is not None and (case_id not in last or at > last[case_id]):
            last[case_id] = at

    try:
        with stores["volunteers"].read() as session:
            for case_id, at in session.execute(select(Visit.case_id, Visit.created_at).where(Visit.tenant == tenant)):
                seen(case_id, at)
        with stores["surveys"].read() as session:
            issued = {
                row.event_id: row.body["data"]["case_id"]
                for row in session.scalars(
                    select(SurveysOutbox).where(SurveysOutbox.tenant == tenant, SurveysOutbox.type == "survey.issued")
                )
            }
        with stores["notifications"].read() as session:
            for trigger, at in session.execute(
                select(Delivery.trigger_id, Delivery.created_at).where(
                    Delivery.tenant == tenant, Delivery.kind == "survey.issued", Delivery.channel == "inapp"
                )
            ):
                if trigger in issued:
                    seen(issued[trigger], at)
    finally:
        for store in stores.values():
            store.engine.dispose()
    return last


def recovery_seconds(fault_end: datetime, closed_at: dict[str, datetime], last: dict[str, datetime]) -> float:
    """From the fault's end to the last effect of any case closed before it ended: how long the
    fault's backlog took to clear, apart from the load's own length (cases closed after the fault
    are ordinary load). 0 when nothing was held back past the fault's end."""
    held = [last[c] for c, at in closed_at.items() if at <= fault_end and c in last]
    return max(0.0, max(((at - fault_end).total_seconds() for at in held), default=0.0))


def tally(urls: dict[str, str], tenant: str, closed: set[str]) -> Tally:
    return judge(*count(urls, tenant), closed)


def judge(visits: Counter, surveys: Counter, notified: Counter, closed: set[str]) -> Tally:
    """Each closed case needs exactly one of each: missing any is lost, two of any is duplicated,
    and anything for a case that was never closed is unexpected."""
    lost = sum(1 for c in closed if min(visits[c], surveys[c], notified[c]) == 0)
    duplicated = sum(1 for c in closed if max(visits[c], surveys[c], notified[c]) > 1)
    unexpected = sum(1 for c in set(visits) | set(surveys) | set(notified) if c not in closed)
    return Tally(len(closed), lost, duplicated, unexpected, lost == 0)
