"""The checker: reads every service's database and counts, per closed case, what the loop produced."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

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


def tally(urls: dict[str, str], tenant: str, closed: set[str]) -> Tally:
    return judge(*count(urls, tenant), closed)


def judge(visits: Counter, surveys: Counter, notified: Counter, closed: set[str]) -> Tally:
    """Each closed case needs exactly one of each: missing any is lost, two of any is duplicated,
    and anything for a case that was never closed is unexpected."""
    lost = sum(1 for c in closed if min(visits[c], surveys[c], notified[c]) == 0)
    duplicated = sum(1 for c in closed if max(visits[c], surveys[c], notified[c]) > 1)
    unexpected = sum(1 for c in set(visits) | set(surveys) | set(notified) if c not in closed)
    return Tally(len(closed), lost, duplicated, unexpected, lost == 0)
