"""Inserting many rows at once, the fast way for each database.

PostgreSQL gets one statement with one parameter, a JSON array that the server unpacks
(``json_populate_recordset``): no per-row round trips, no huge statement for the pure-Python
driver to scan. SQLite gets an executemany, which is a C loop there.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a bulk insert")


def insert_rows(
    session: Session,
    model: type,
    rows: Sequence[dict],
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
) -> None:
    """INSERT ``rows`` (dicts with the same keys); on a ``conflict`` key, update ``update`` or skip."""
    if not rows:
        return
    table = model.__table__  # type: ignore[attr-defined]
    columns = list(rows[0])
    if session.get_bind().dialect.name == "postgresql":
        names = ", ".join(f'"{c}"' for c in columns)
        unpacked = f"json_populate_recordset(NULL::{table.name}, CAST(:rows AS json))"
        sql = f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {unpacked}"
        if conflict:
            target = ", ".join(f'"{c}"' for c in conflict)
            action = "DO UPDATE SET " + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in update) if update else "DO NOTHING"
            sql += f" ON CONFLICT ({target}) {action}"
        session.execute(text(sql), {"rows": json.dumps(list(rows), default=_plain, ensure_ascii=False)})
        return
    statement = sqlite_insert(table)
    if conflict and update:
        statement = statement.on_conflict_do_update(
            index_elements=list(conflict), set_={c: statement.excluded[c] for c in update}
        )
    elif conflict:
        statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
    session.execute(statement, list(rows))
