"""Cursor pagination over time-ordered ids: stable, and cheap at any depth."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import Select
from sqlalchemy.orm import Session

MAX_LIMIT = 100


class PageQuerySchema(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_LIMIT))
    starting_after = fields.String(load_default=None, validate=validate.Length(max=64))


def page(session: Session, query: Select, id_column: Any, limit: int, starting_after: str | None) -> tuple[list, bool]:
    """Rows after the cursor, newest-first by id, and whether more follow."""
    if starting_after:
        query = query.where(id_column < starting_after)
    rows = session.scalars(query.order_by(id_column.desc()).limit(limit + 1)).all()
    return list(rows[:limit]), len(rows) > limit
