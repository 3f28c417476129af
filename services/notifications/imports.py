"""Bulk import of a tenant's residents: CSV or JSON rows, validated one by one, with a report.

Good rows are saved even when others are rejected (the report says which and why), so a
tenant fixes only the bad lines and imports them again; importing the same file twice
changes nothing (contacts are keyed by phone).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from services.common.errors import ValidationFailed
from services.notifications import contacts
from services.notifications.schemas import MAX_IMPORT_ROWS, ContactImportRowSchema

COLUMNS = ("phone", "name", "email", "role", "wechat_openid", "estate_id", "household", "building", "teams")


def rows_from_csv(text: str) -> list[dict]:
    """Rows of a CSV with a header line (UTF-8, BOM tolerated); unknown columns are ignored."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if not reader.fieldnames or "phone" not in [name.strip() for name in reader.fieldnames]:
        raise ValidationFailed("the CSV needs a header line with a phone column", {"file": ["missing phone column"]})
    rows = [{(k or "").strip(): v for k, v in row.items() if k} for row in reader]
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationFailed("too many rows", {"file": [f"at most {MAX_IMPORT_ROWS} rows per import"]})
    return rows


def check(rows: Sequence[object]) -> tuple[list[dict], list[dict]]:
    """(valid rows, rejected rows with 1-based row numbers and field errors). No database needed."""
    schema = ContactImportRowSchema()
    valid: list[dict] = []
    rejected: list[dict] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(rows, start=1):
        if not isinstance(raw, Mapping):
            rejected.append({"row": number, "errors": {"_schema": ["must be an object"]}})
            continue
        try:
            row = schema.load({k: v for k, v in raw.items() if k in COLUMNS})
        except ValidationError as exc:
            rejected.append({"row": number, "errors": exc.normalized_messages()})
            continue
        if row["phone"] in seen:
            rejected.append({"row": number, "errors": {"phone": [f"重复 (repeats row {seen[row['phone']]})"]}})
            continue
        seen[row["phone"]] = number
        valid.append(row)
    return valid, rejected


def import_rows(session: Session, tenant: str, rows: Sequence[object]) -> dict:
    valid, rejected = check(rows)
    contacts.save_many(session, tenant, valid)
    return {"received": len(rows), "imported": len(valid), "rejected": rejected}
