"""Survey templates: which questions a tenant asks, versioned so old answers keep their meaning.

Overall satisfaction (CSAT 1–5) is always asked. The rest is chosen per tenant. A tenant that
never saved a template gets version 0, the built-in default. Saving creates the next version;
surveys already issued keep the version they were issued with.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.errors import Conflict, NotFound
from services.common.ids import new_id
from services.surveys.models import SurveyTemplate
from services.surveys.schemas import TemplateSchema

QUESTIONS = ("speed", "attitude", "quality", "nps", "ces", "solved", "comment")

DEFAULT = {
    "version": 0,
    "title": "满意度评价",
    "speed": True,
    "attitude": True,
    "quality": True,
    "nps": False,
    "ces": False,
    "solved": True,
    "comment": True,
    "created_at": None,
}


def as_dict(row: SurveyTemplate) -> dict:
    return TemplateSchema().dump(row)


def current(session: Session, tenant: str) -> dict:
    """The newest version, or the default: what a survey issued now is asked with."""
    row = session.scalars(
        select(SurveyTemplate).where(SurveyTemplate.tenant == tenant).order_by(SurveyTemplate.version.desc()).limit(1)
    ).first()
    return as_dict(row) if row else dict(DEFAULT)


def version(session: Session, tenant: str, number: int) -> dict:
    """The questions of one version (a survey is always shown with the version it was issued with)."""
    if number == 0:
        return dict(DEFAULT)
    row = session.scalars(
        select(SurveyTemplate).where(SurveyTemplate.tenant == tenant, SurveyTemplate.version == number)
    ).first()
    if row is None:
        raise NotFound(f"survey template version {number} not found")
    return as_dict(row)


def history(session: Session, tenant: str) -> list[dict]:
    rows = session.scalars(
        select(SurveyTemplate).where(SurveyTemplate.tenant == tenant).order_by(SurveyTemplate.version.desc())
    ).all()
    return [as_dict(row) for row in rows] or [dict(DEFAULT)]


def save(session: Session, tenant: str, data: dict) -> dict:
    """A new version; two saves racing for the same number: the second gets 409 and may retry."""
    latest = session.scalar(select(func.max(SurveyTemplate.version)).where(SurveyTemplate.tenant == tenant)) or 0
    chosen = {key: data[key] for key in ("title", *QUESTIONS)}
    row = SurveyTemplate(id=new_id(), tenant=tenant, version=latest + 1, **chosen)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("另一个版本刚刚保存，请重试 (a version was saved concurrently; retry)") from None
    return as_dict(row)


def accepts(template: dict, answer: dict) -> dict:
    """The answer restricted to the questions the template asked (CSAT always)."""
    kept = {"score": answer["score"]}
    for question in QUESTIONS:
        kept[question] = answer.get(question) if template[question] else None
    return kept
