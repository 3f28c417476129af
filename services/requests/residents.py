"""What the resident pages ask of the requests service: an estate by its id, and a reporter's own cases.

A resident's page has no API key, so no tenant: the estate id (printed in the estate's QR
code) leads to the company, and the signed-in phone is the only key to cases. A case of
another phone is "not found", never "forbidden", so case ids reveal nothing. The answers carry
what the pages show (estate and category names, public comments only), so the gateway's
templates need no lookups of their own.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import NotFound
from services.common.pages import page
from services.requests import cases, categories, comments
from services.requests import photos as case_photos
from services.requests.models import Case, Estate


def estate_public(session: Session, estate_id: str) -> dict:
    """An estate as anyone may see it: its id, name, address and company (tenant)."""
    estate = session.get(Estate, estate_id)
    if estate is None:
        raise NotFound(f"estate {estate_id} not found")
    return {"id": estate.id, "name": estate.name, "address": estate.address, "tenant": estate.tenant}


def _names(session: Session, rows: list[Case]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Estate names by id and category names by (tenant, code), for the cases shown."""
    estate_ids = {case.estate_id for case in rows}
    estates = dict(session.execute(select(Estate.id, Estate.name).where(Estate.id.in_(estate_ids))).all())
    labels = {
        (tenant, code): category.name
        for tenant in {case.tenant for case in rows}
        for code, category in categories.effective(session, tenant).items()
    }
    return estates, labels


def _view(case: Case, estates: dict[str, str], labels: dict[tuple[str, str], str], now: datetime) -> dict:
    return cases.to_dict(case, now) | {
        "tenant": case.tenant,
        "estate_name": estates.get(case.estate_id, ""),
        "category_name": labels.get((case.tenant, case.category), case.category),
    }


def reporter_cases(session: Session, phone: str, query: dict, now: datetime) -> dict:
    """The phone's cases with every company, newest first (cursor pages as the desk's list)."""
    found = select(Case).where(Case.reporter_phone == phone)
    rows, has_more = page(session, found, Case.id, query["limit"], query.get("starting_after"))
    estates, labels = _names(session, rows)
    return {"data": [_view(case, estates, labels, now) for case in rows], "has_more": has_more}


def reporter_case(session: Session, phone: str, case_id: str, now: datetime) -> dict:
    """One case of the phone with its public comments and its photos; 404 for any other phone's case."""
    case = session.get(Case, case_id)
    if case is None or case.reporter_phone != phone:
        raise NotFound(f"case {case_id} not found")
    estates, labels = _names(session, [case])
    public = comments.list_comments(session, [case.tenant], case.id, "public")
    photos = [case_photos.to_dict(photo)["id"] for photo in case.photos]
    return _view(case, estates, labels, now) | {"comments": public, "photo_ids": photos}
