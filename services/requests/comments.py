"""Discussion on a case (让业主议事): residents, staff and the supervisor, public or internal.

A supervisor's instruction is a comment of kind ``instruction``, internal to the desk; it is
the only thing a supervisor may add to another tenant's case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.ids import new_id
from services.requests.cases import case_of
from services.requests.models import CaseComment
from services.requests.schemas import CommentSchema

COMMENT = CommentSchema()


def add(session: Session, tenant: str, case_id: str, data: dict, actor: str, now: datetime) -> dict:
    case = case_of(session, tenant, case_id)
    comment = CaseComment(
        id=new_id(),
        case_id=case.id,
        kind="comment",
        author=actor,
        author_role=data["author_role"],
        visibility=data["visibility"],
        body=data["body"],
        created_at=now,
    )
    session.add(comment)
    session.flush()
    return COMMENT.dump(comment)


def instruct(session: Session, tenants: list[str], case_id: str, data: dict, actor: str, now: datetime) -> dict:
    """The party branch supervisor's instruction on a case of any tenant of the community."""
    case = case_of(session, tenants, case_id)
    comment = CaseComment(
        id=new_id(),
        case_id=case.id,
        kind="instruction",
        author=actor,
        author_role="supervisor",
        visibility="internal",
        body=data["body"],
        created_at=now,
    )
    session.add(comment)
    session.flush()
    return COMMENT.dump(comment)


def list_comments(session: Session, tenants: list[str], case_id: str, visibility: str | None) -> list[dict]:
    case = case_of(session, tenants, case_id)
    query = select(CaseComment).where(CaseComment.case_id == case.id)
    if visibility:
        query = query.where(CaseComment.visibility == visibility)
    return [COMMENT.dump(c) for c in session.scalars(query.order_by(CaseComment.created_at, CaseComment.id))]
