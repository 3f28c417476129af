"""Satisfaction statistics in SQL: GROUP BY over the running tallies, defined by a GROUP BY over surveys.

Figures per group (any of estate, category, assignee, month; tenant for the public table):
surveys issued (link sent, voided excluded; expired ones count as unanswered), responses,
response rate, CSAT (share of overall scores 4–5) and its mean, NPS (% promoters 9–10 −
% detractors 0–6), CES mean, low scores (overall ≤ 2 or not solved), answered surveys whose
case was reopened afterwards, and answers flagged as bursts.

Why it is fast on a million answers: the API reads ``survey_tallies`` (one row per tenant,
estate, category, assignee and month, kept current in each change's own transaction by
:mod:`services.surveys.tallies`): its primary key starts with the tenant and
``ix_survey_tallies_tenant_month`` serves month ranges, so a tenant's figures are a SUM over a
few thousand rows however many answers there are. :func:`recount` is the same figures
straight from ``surveys`` (one GROUP BY, served by ``ix_surveys_tenant_month``): it rebuilds
the tallies and is what the tests hold them to. Ratios are taken from the summed counts in
Python, so both databases round alike.

Verified answers only in public: an answer counts in the league (and anything else the party
branch reads) only when the community confirmed the answering phone in the survey's household
(``Survey.verified``) and it was not flagged as a burst. The company's own figures count every
answer and say how many were unverified (``unverified_responses``), so it still hears from
residents who answered through the link without signing in. The public view withholds any
group with fewer than :data:`MINIMUM_ANSWERS` answers, so no resident's answer can be singled out.
"""

from __future__ import annotations

from sqlalchemy import and_, case, delete, func, insert, literal, literal_column, select
from sqlalchemy.orm import Session

from services.surveys.models import Survey, SurveyTally
from services.surveys.tallies import ANSWER_COUNTS, COUNTERS

MINIMUM_ANSWERS = 5
GROUPS = {"tenant": "tenant", "estate": "estate_id", "category": "category", "assignee": "assignee", "month": "month"}


def _count(condition: object) -> object:
    return func.sum(case((condition, 1), else_=0))


def _sum(condition: object, value: object) -> object:
    return func.coalesce(func.sum(case((condition, value), else_=literal(None))), 0)


def _answer_counts(answered: object, prefix: str) -> list:
    """The answer counters (:data:`services.surveys.tallies.ANSWER_COUNTS`) over the answers ``answered``."""
    return [
        _count(answered).label(f"{prefix}responses"),
        _count(and_(answered, Survey.score >= 4)).label(f"{prefix}satisfied"),
        _sum(answered, Survey.score).label(f"{prefix}score_sum"),
        _count(and_(answered, Survey.nps.is_not(None))).label(f"{prefix}nps_responses"),
        _count(and_(answered, Survey.nps >= 9)).label(f"{prefix}promoters"),
        _count(and_(answered, Survey.nps <= 6)).label(f"{prefix}detractors"),
        _count(and_(answered, Survey.ces.is_not(None))).label(f"{prefix}ces_responses"),
        _sum(answered, Survey.ces).label(f"{prefix}ces_sum"),
        _count(and_(answered, (Survey.score <= 2) | Survey.solved.is_(False))).label(f"{prefix}low_scores"),
        _count(and_(answered, Survey.reopened_at.is_not(None))).label(f"{prefix}reopened"),
        _count(and_(answered, Survey.flagged_burst.is_(True))).label(f"{prefix}flagged"),
    ]


def recount(session: Session, tenant: str | None = None) -> list[dict]:
    """Every tally, straight from the surveys: one GROUP BY by tenant, estate, category, assignee, month."""
    counted = and_(Survey.link_sent_at.is_not(None), Survey.status != "voided")
    assignee = func.coalesce(Survey.assignee, literal_column("''"))  # one expression for SELECT and GROUP BY
    verified = and_(Survey.status == "answered", Survey.verified.is_(True))
    unverified = and_(Survey.status == "answered", Survey.verified.is_not(True))
    flagged = and_(verified, Survey.flagged_burst.is_(True))
    stmt = select(
        Survey.tenant,
        Survey.estate_id,
        Survey.category,
        assignee.label("assignee"),
        Survey.month,
        func.count().label("issued"),
        *_answer_counts(verified, ""),
        _count(and_(flagged, Survey.score >= 4)).label("flagged_satisfied"),
        _sum(flagged, Survey.score).label("flagged_score_sum"),
        _count(and_(flagged, Survey.nps.is_not(None))).label("flagged_nps_responses"),
        _count(and_(flagged, Survey.nps >= 9)).label("flagged_promoters"),
        _count(and_(flagged, Survey.nps <= 6)).label("flagged_detractors"),
        *_answer_counts(unverified, "unverified_"),
    ).where(counted)
    if tenant is not None:
        stmt = stmt.where(Survey.tenant == tenant)
    stmt = stmt.group_by(Survey.tenant, Survey.estate_id, Survey.category, assignee, Survey.month)
    return [{k: (int(v) if k in COUNTERS else v) for k, v in row._mapping.items()} for row in session.execute(stmt)]


def rebuild(session: Session, tenant: str | None = None) -> int:
    """Recompute the tallies from the surveys (one GROUP BY); returns how many tally rows."""
    wipe = delete(SurveyTally)
    if tenant is not None:
        wipe = wipe.where(SurveyTally.tenant == tenant)
    session.execute(wipe)
    rows = recount(session, tenant)
    if rows:
        session.execute(insert(SurveyTally), rows)
    return len(rows)


def query(
    group_by: list[str],
    tenant: str | None = None,
    from_month: str | None = None,
    to_month: str | None = None,
    estate_id: str | None = None,
):  # noqa: ANN201 - a Select
    """The aggregate SELECT over the tallies (also used by the benchmark to EXPLAIN it)."""
    keys = [SurveyTally.__table__.c[GROUPS[name]].label(name) for name in group_by]
    sums = [func.coalesce(func.sum(SurveyTally.__table__.c[name]), 0).label(name) for name in COUNTERS]
    stmt = select(*keys, *sums)
    if tenant is not None:
        stmt = stmt.where(SurveyTally.tenant == tenant)
    if from_month:
        stmt = stmt.where(SurveyTally.month >= from_month)
    if to_month:
        stmt = stmt.where(SurveyTally.month <= to_month)
    if estate_id:
        stmt = stmt.where(SurveyTally.estate_id == estate_id)
    if keys:
        columns = [SurveyTally.__table__.c[GROUPS[name]] for name in group_by]
        stmt = stmt.group_by(*columns).order_by(*columns)
    return stmt


def _ratio(part: int, whole: int, digits: int) -> float | None:
    return round(part / whole, digits) if whole else None


def figures(sums: dict, trusted_only: bool = False) -> dict:
    """The figures of one group's summed counts.

    ``trusted_only`` (the public view): verified answers not flagged as bursts. Otherwise (the
    company's own view): every answer, with ``unverified_responses`` saying how many nobody vouched for.
    """
    count = {name: int(sums[name] or 0) for name in COUNTERS}
    if trusted_only:  # the tallies' main counters hold verified answers only; leave the flagged ones out too
        for name in ("satisfied", "score_sum", "nps_responses", "promoters", "detractors"):
            count[name] -= count[f"flagged_{name}"]
        count["responses"] -= count["flagged"]
    else:
        for name in ANSWER_COUNTS:
            count[name] += count[f"unverified_{name}"]
    issued, responses, nps_n = count["issued"], count["responses"], count["nps_responses"]
    return {
        "issued": issued,
        "responses": responses,
        "response_rate": _ratio(responses, issued, 4),
        "csat": _ratio(count["satisfied"], responses, 4),
        "csat_mean": _ratio(count["score_sum"], responses, 2),
        "nps": round(100 * (count["promoters"] - count["detractors"]) / nps_n, 1) if nps_n else None,
        "nps_responses": nps_n,
        "ces_mean": _ratio(count["ces_sum"], count["ces_responses"], 2),
        "low_scores": count["low_scores"],
        "reopened_after_survey": count["reopened"],
        "flagged_burst": count["flagged"],
        "unverified_responses": 0 if trusted_only else count["unverified_responses"],
    }


def keys_of(sums: dict, group_by: list[str]) -> dict:
    out: dict = {"estate_id": None, "category": None, "assignee": None, "month": None}
    for name in group_by:
        value = sums[name]
        out[GROUPS[name]] = None if name == "assignee" and value == "" else value
    return out


def for_tenant(session: Session, tenant: str, params: dict) -> list[dict]:
    """The tenant's own figures, grouped as asked (no suppression: these are its own residents).

    Every answer counts here, verified or not; ``unverified_responses`` marks how many were not.
    """
    group_by = list(dict.fromkeys(params.get("group_by") or []))
    stmt = query(
        group_by,
        tenant=tenant,
        from_month=params.get("from_month"),
        to_month=params.get("to_month"),
        estate_id=params.get("estate_id"),
    )
    rows = [dict(row._mapping) for row in session.execute(stmt)]
    return [keys_of(sums, group_by) | figures(sums) for sums in rows if int(sums["issued"] or 0)]


def league(session: Session, params: dict) -> dict:
    """The public table: companies and estates, verified unflagged answers only, small groups withheld."""
    tables, suppressed = {}, 0
    for name, group_by in (("companies", ["tenant"]), ("estates", ["tenant", "estate"])):
        stmt = query(group_by, from_month=params.get("from_month"), to_month=params.get("to_month"))
        rows = []
        for row in session.execute(stmt):
            sums = dict(row._mapping)
            full = figures(sums, trusted_only=True)
            if not full["issued"]:
                continue
            if full["responses"] < MINIMUM_ANSWERS:
                suppressed += 1
                continue
            rows.append(
                {
                    "tenant": sums["tenant"],
                    "estate_id": sums.get("estate"),
                    **{k: full[k] for k in ("responses", "csat", "csat_mean", "nps", "response_rate")},
                }
            )
        rows.sort(key=lambda r: (-r["csat"], -r["csat_mean"], -r["responses"], r["tenant"], r["estate_id"] or ""))
        tables[name] = rows
    return {**tables, "suppressed": suppressed, "minimum_answers": MINIMUM_ANSWERS}
