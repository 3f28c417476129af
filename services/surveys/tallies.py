"""Running tallies of the survey figures, kept in the same transaction as every change.

Each survey contributes a vector of counts (:func:`contribution`) to the tally row of its
group (tenant, estate, category, assignee, month). A change to a survey adds the difference
of its contribution after and before to that row (an UPSERT), so the statistics read a few
thousand tally rows instead of scanning a million surveys.
:func:`services.surveys.statistics.rebuild` recomputes every tally from the surveys themselves
with one GROUP BY: the definition the running tallies are tested against, and the repair if
they were ever doubted.

An answer counts in the main counters only when it is *verified* (the community confirmed the
answering phone in the survey's household); any other answer is kept, and counted in the
``unverified_*`` counters instead: the company sees both, the public league and the party
branch read the main counters only, so answers through a forwarded link cannot rate a company.

Deltas are applied in key order at the end of a unit of work, so two transactions touching
the same tally rows lock them in the same order (no deadlock).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.surveys.models import Survey, SurveyTally

#: The counts of an answer; an unverified answer adds them to ``unverified_<name>`` instead.
ANSWER_COUNTS = (
    "responses",
    "satisfied",
    "score_sum",
    "nps_responses",
    "promoters",
    "detractors",
    "ces_responses",
    "ces_sum",
    "low_scores",
    "reopened",
    "flagged",
)
UNVERIFIED = tuple(f"unverified_{name}" for name in ANSWER_COUNTS)

COUNTERS = (
    "issued",
    "responses",
    "satisfied",
    "score_sum",
    "nps_responses",
    "promoters",
    "detractors",
    "ces_responses",
    "ces_sum",
    "low_scores",
    "reopened",
    "flagged",
    # the part of the answer counts that came from flagged answers (the public view leaves them out)
    "flagged_satisfied",
    "flagged_score_sum",
    "flagged_nps_responses",
    "flagged_promoters",
    "flagged_detractors",
    # answers no confirmed household member gave (see the module docstring)
    *UNVERIFIED,
)
FLAGGED_PARTS = ("satisfied", "score_sum", "nps_responses", "promoters", "detractors")
KEYS = ("tenant", "estate_id", "category", "assignee", "month")
Key = tuple[str, str, str, str, str]


def key_of(survey: Survey) -> Key:
    """The tally row of a survey; no assignee is '' (a key column cannot be NULL)."""
    return (survey.tenant, survey.estate_id, survey.category, survey.assignee or "", survey.month)


def contribution(survey: Survey) -> dict[str, int]:
    """What one survey adds to its group's figures (all zero until its link is sent, and once voided)."""
    counts = dict.fromkeys(COUNTERS, 0)
    if survey.link_sent_at is None or survey.status == "voided":
        return counts
    counts["issued"] = 1
    if survey.status != "answered":
        return counts
    answer = {
        "satisfied": int(survey.score >= 4),
        "score_sum": survey.score,
        "nps_responses": int(survey.nps is not None),
        "promoters": int(survey.nps is not None and survey.nps >= 9),
        "detractors": int(survey.nps is not None and survey.nps <= 6),
        "responses": 1,
        "ces_responses": int(survey.ces is not None),
        "ces_sum": survey.ces or 0,
        "low_scores": int(survey.score <= 2 or survey.solved is False),
        "reopened": int(survey.reopened_at is not None),
        "flagged": int(bool(survey.flagged_burst)),
    }
    if not survey.verified:  # kept, and shown to the company, but never in the league's counters
        return counts | {f"unverified_{name}": value for name, value in answer.items()}
    counts |= answer
    if survey.flagged_burst:
        counts |= {f"flagged_{name}": answer[name] for name in FLAGGED_PARTS}
    return counts


class Changes:
    """Collects the tally deltas of one unit of work; :meth:`apply` writes them in key order."""

    def __init__(self) -> None:
        self.deltas: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
        self._before: dict[int, tuple[Key, dict[str, int]]] = {}

    def before(self, survey: Survey) -> None:
        """Remember a survey's contribution before it changes (first call wins)."""
        self._before.setdefault(id(survey), (key_of(survey), contribution(survey)))

    def after(self, survey: Survey) -> None:
        """Add the difference since :meth:`before` (or since nothing, for a new survey)."""
        key, old = self._before.pop(id(survey), (key_of(survey), dict.fromkeys(COUNTERS, 0)))
        new = contribution(survey)
        for name in COUNTERS:
            self.deltas[key][name] += new[name] - old[name]

    def apply(self, session: Session) -> None:
        for key in sorted(self.deltas):
            delta = self.deltas[key]
            if any(delta.values()):
                upsert(session, dict(zip(KEYS, key, strict=True)), delta)
        self.deltas.clear()


def upsert(session: Session, key: dict[str, str], delta: dict[str, int]) -> None:
    """Add ``delta`` to the tally row ``key``, creating it if needed (atomic on both databases)."""
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    table = SurveyTally.__table__
    stmt = module.insert(table).values(**key, **delta)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(KEYS), set_={name: table.c[name] + stmt.excluded[name] for name in COUNTERS}
    )
    session.execute(stmt)


def stored(session: Session, tenant: str | None = None) -> list[dict]:
    """The tally rows as dicts (tests compare running tallies with a rebuild)."""
    query = select(SurveyTally).order_by(*[SurveyTally.__table__.c[k] for k in KEYS])
    if tenant is not None:
        query = query.where(SurveyTally.tenant == tenant)
    return [
        {name: getattr(row, name) for name in (*KEYS, *COUNTERS)}
        for row in session.scalars(query)
        if any(getattr(row, name) for name in COUNTERS)
    ]
