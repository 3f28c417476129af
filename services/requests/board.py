"""The public board (向业主晒事): an estate's resolved and closed cases, as its residents see them.

Only what an estate may see: category, title, how long it took, what was done and the score.
Never a reporter's name or phone; the household shows as its building only ("3-2-501" → "3号楼");
a case's photos only once staff have published them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import NotFound
from services.common.pages import page
from services.requests import categories
from services.requests.models import Case, Estate
from services.requests.photos import public_url
from services.requests.schemas import BoardSchema

SHOWN = ("resolved", "closed")
BOARD = BoardSchema()


def building(household: str) -> str:
    """The building of a household "楼-单元-房号": all the board may tell about where."""
    return f"{household.split('-', 1)[0]}号楼"


def resolution_of(case: Case) -> str | None:
    """What was done: the note of the latest resolve."""
    notes = [h.note for h in case.history if h.to_status == "resolved" and h.note]
    return notes[-1] if notes else None


def entry(case: Case, names: dict[str, str]) -> dict:
    hours = None
    if case.resolved_at is not None:
        hours = round((case.resolved_at - case.created_at).total_seconds() / 3600, 1)
    return {
        "case_id": case.id,
        "category": case.category,
        "category_name": names.get(case.category, case.category),
        "title": case.title,
        "building": building(case.reporter_household),
        "status": case.status,
        "submitted_at": case.created_at,
        "resolved_at": case.resolved_at,
        "hours_to_resolve": hours,
        "resolution": resolution_of(case),
        # Public: only a rating the community vouched for (anyone holding a link may answer).
        "satisfaction": case.rating if case.rating_verified else None,
        # Only what staff chose to publish; an unpublished photo is never named here.
        "photos": [{"id": p.id, "url": public_url(p)} for p in case.photos if p.published_at is not None],
    }


def board(session: Session, estate_id: str, query: dict, tenant: str | None = None) -> dict:
    """The estate's board; ``tenant`` None for the public page (any estate, by its id)."""
    estate = session.get(Estate, estate_id)
    if estate is None or (tenant is not None and estate.tenant != tenant):
        raise NotFound(f"estate {estate_id} not found")
    names = {code: c.name for code, c in categories.effective(session, estate.tenant).items()}
    shown = select(Case).where(Case.tenant == estate.tenant, Case.estate_id == estate.id, Case.status.in_(SHOWN))
    rows, has_more = page(session, shown, Case.id, query["limit"], query.get("starting_after"))
    return BOARD.dump(
        {
            "estate_id": estate.id,
            "estate_name": estate.name,
            "data": [entry(case, names) for case in rows],
            "has_more": has_more,
        }
    )
