"""The community's household register: which phone lives in which household (楼-单元-室), by its word.

The property company fills its own contact list and types reporters' phones into walk-in
cases, so it cannot be the one that vouches for residents: a company that could would vote
for households and rate itself. The register is the party branch's (role ``supervisor``,
one community): it imports the list it keeps (:func:`import_rows`, all or nothing,
idempotent) and confirms or rejects what residents claim (:func:`request_claim`,
:func:`decide`). Only ``confirmed`` rows count (:mod:`services.gateway.households`).

Which estates belong to the community is the requests service's knowledge; the callers pass
it in as ``estates`` (estate id → its company's tenant id), so everything here is plain
database work and the row checks (:func:`check_rows`) need no database at all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime

from marshmallow import Schema, ValidationError, fields, validate, validates
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.common.fields import Timestamp, mainland_mobile
from services.common.ids import new_id
from services.common.pages import page
from services.gateway.models import HouseholdMember
from services.requests.schemas import HOUSEHOLD

COLUMNS = ("estate_id", "household", "phone")
MAX_ROWS = 20_000
STATUSES = ("pending", "confirmed", "rejected")
NO_ESTATE = "本社区没有这个小区 (no such estate in this community)"


class RegisterRowSchema(Schema):
    """One line of the register: the estate, the household (楼-单元-室) and a mainland mobile."""

    estate_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    household = fields.String(required=True, validate=HOUSEHOLD, metadata={"example": "5-5-505"})
    phone = fields.String(required=True, metadata={"example": "13912345678"})

    @validates("phone")
    def _phone(self, value: str, **_: object) -> None:
        mainland_mobile(value)


class RegisterImportSchema(Schema):
    """A JSON import: ``{"rows": [{estate_id, household, phone}, ...]}`` (or CSV as ``text/csv``)."""

    rows = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=MAX_ROWS))


class RegisterImportLineSchema(Schema):
    line = fields.Integer(metadata={"description": "the CSV line (the header is line 1), or the JSON row (from 1)"})
    estate_id = fields.String()
    household = fields.String()
    result = fields.String(metadata={"description": "created, confirmed (a pending claim), or unchanged"})


class RegisterImportReportSchema(Schema):
    received = fields.Integer()
    created = fields.Integer()
    confirmed = fields.Integer(metadata={"description": "pending or rejected claims the register confirms"})
    unchanged = fields.Integer()
    lines = fields.List(fields.Nested(RegisterImportLineSchema))


class HouseholdMemberSchema(Schema):
    """A row of the register or a claim; the phone is shown to the community's supervisor only."""

    id = fields.String()
    community = fields.String()
    tenant_id = fields.String()
    estate_id = fields.String()
    household = fields.String()
    phone = fields.String()
    status = fields.String(metadata={"description": "pending, confirmed or rejected"})
    source = fields.String(metadata={"description": "register (imported by the community) or claim (a resident's)"})
    requested_at = Timestamp()
    decided_at = Timestamp(allow_none=True)
    decided_by = fields.String(allow_none=True, metadata={"description": "the supervisor's key that decided"})


class RegisterQuerySchema(Schema):
    estate_id = fields.String(load_default=None, validate=validate.Length(max=64))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    phone = fields.String(load_default=None)
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    starting_after = fields.String(load_default=None, validate=validate.Length(max=64))

    @validates("phone")
    def _phone(self, value: str | None, **_: object) -> None:
        if value is not None:
            mainland_mobile(value)


def view(row: HouseholdMember) -> dict:
    return HouseholdMemberSchema().dump(row)


def rows_from_csv(text: str) -> list[tuple[int, dict]]:
    """(file line, row) of a CSV with a header line ``estate_id,household,phone`` (UTF-8, BOM tolerated)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        needed = {"file": [f"missing columns: {', '.join(missing)}"]}
        raise ValidationFailed("the CSV needs a header line estate_id,household,phone", needed)
    rows = []
    for row in reader:
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # a blank line (Excel leaves them at the end)
        rows.append((reader.line_num, {(k or "").strip(): (v or "").strip() for k, v in row.items() if k}))
        if len(rows) > MAX_ROWS:
            raise ValidationFailed("too many rows", {"file": [f"at most {MAX_ROWS} rows per import"]})
    return rows


def numbered(rows: Sequence[object]) -> list[tuple[int, object]]:
    """JSON rows, numbered from 1 as the report numbers them."""
    return list(enumerate(rows, start=1))


def check_rows(rows: Sequence[tuple[int, object]], estates: Mapping[str, str]) -> tuple[list[dict], dict]:
    """(valid rows with their line, errors by line). No database: ``estates`` is estate id → tenant id."""
    schema = RegisterRowSchema()
    valid: list[dict] = []
    errors: dict[str, dict] = {}
    seen: dict[tuple[str, str, str], int] = {}
    for line, raw in rows:
        if not isinstance(raw, Mapping):
            errors[str(line)] = {"_schema": ["must be an object with estate_id, household, phone"]}
            continue
        try:
            row = schema.load({k: raw[k] for k in COLUMNS if k in raw})
        except ValidationError as exc:
            errors[str(line)] = exc.normalized_messages()
            continue
        row["phone"] = mainland_mobile(row["phone"])
        if row["estate_id"] not in estates:
            errors[str(line)] = {"estate_id": [NO_ESTATE]}
            continue
        key = (row["estate_id"], row["household"], row["phone"])
        if key in seen:
            errors[str(line)] = {"phone": [f"重复 (repeats line {seen[key]})"]}
            continue
        seen[key] = line
        valid.append(row | {"line": line, "tenant_id": estates[row["estate_id"]]})
    return valid, errors


def _existing(session: Session, estate_id: str, household: str, phone: str) -> HouseholdMember | None:
    return session.scalars(
        select(HouseholdMember).where(
            HouseholdMember.estate_id == estate_id,
            HouseholdMember.household == household,
            HouseholdMember.phone == phone,
        )
    ).first()


def import_rows(
    session: Session,
    community: str,
    rows: Sequence[tuple[int, object]],
    estates: Mapping[str, str],
    actor: str,
    now: datetime,
) -> dict:
    """Confirm every row, or none: any invalid row is a 422 naming each bad line.

    Importing the same rows again changes nothing (each reported ``unchanged``); a resident's
    pending (or earlier rejected) claim the register lists becomes confirmed.
    """
    valid, errors = check_rows(rows, estates)
    if errors:
        raise ValidationFailed(f"{len(errors)} of {len(rows)} rows are invalid; nothing was imported", {"rows": errors})
    report: dict = {"received": len(rows), "created": 0, "confirmed": 0, "unchanged": 0, "lines": []}
    for row in valid:
        found = _existing(session, row["estate_id"], row["household"], row["phone"])
        if found is None:
            session.add(
                HouseholdMember(
                    id=new_id(), community=community, tenant_id=row["tenant_id"], estate_id=row["estate_id"],
                    household=row["household"], phone=row["phone"], status="confirmed", source="register",
                    requested_at=now, decided_at=now, decided_by=actor,
                )
            )  # fmt: skip
            result = "created"
        elif found.status == "confirmed":
            result = "unchanged"
        else:
            found.status, found.decided_at, found.decided_by = "confirmed", now, actor
            result = "confirmed"
        report[result] += 1
        report["lines"].append(
            {"line": row["line"], "estate_id": row["estate_id"], "household": row["household"], "result": result}
        )
    session.flush()
    return report


def listing(session: Session, community: str, query: dict, status: str | None = None) -> dict:
    """The community's rows, newest first, filtered by estate, status and phone; cursor pages."""
    found = select(HouseholdMember).where(HouseholdMember.community == community)
    if query.get("estate_id"):
        found = found.where(HouseholdMember.estate_id == query["estate_id"])
    status = status or query.get("status")
    if status:
        found = found.where(HouseholdMember.status == status)
    if query.get("phone"):
        found = found.where(HouseholdMember.phone == mainland_mobile(query["phone"]))
    rows, has_more = page(session, found, HouseholdMember.id, query.get("limit") or 20, query.get("starting_after"))
    return {"data": [view(row) for row in rows], "has_more": has_more}


def of_phone(session: Session, phone: str, estate_id: str | None = None) -> list[dict]:
    """A resident's own rows, every status (the resident pages show a pending claim as pending)."""
    query = select(HouseholdMember).where(HouseholdMember.phone == phone)
    if estate_id is not None:
        query = query.where(HouseholdMember.estate_id == estate_id)
    return [view(row) for row in session.scalars(query.order_by(HouseholdMember.id))]


def request_claim(
    session: Session, phone: str, estate_id: str, household: str, tenant_id: str, community: str, now: datetime
) -> dict:
    """A signed-in resident says they live in ``household``: a pending row for the supervisor to decide.

    ``tenant_id`` and ``community`` are the estate's, as the caller found them (an estate
    outside them is the caller's 422). Claiming again returns the row already there, whatever
    its status: a rejected claim is not re-opened by asking twice.
    """
    try:
        row = RegisterRowSchema().load({"estate_id": estate_id, "household": household, "phone": phone})
    except ValidationError as exc:
        raise ValidationFailed("invalid claim", exc.normalized_messages()) from None
    phone = mainland_mobile(row["phone"])
    found = _existing(session, estate_id, household, phone)
    if found is not None:
        return view(found)
    claim = HouseholdMember(
        id=new_id(), community=community, tenant_id=tenant_id, estate_id=estate_id, household=household,
        phone=phone, status="pending", source="claim", requested_at=now,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(claim)
    except IntegrityError:  # the same claim at the same moment from another request
        return view(_existing(session, estate_id, household, phone))
    return view(claim)


def decide(session: Session, community: str, claim_id: str, confirm: bool, actor: str, now: datetime) -> dict:
    """The supervisor confirms or rejects a pending claim of their community (another community's: 404)."""
    claim = session.scalars(
        select(HouseholdMember)
        .where(HouseholdMember.id == claim_id, HouseholdMember.community == community)
        .with_for_update()
    ).first()
    if claim is None:
        raise NotFound(f"claim {claim_id} not found")
    if claim.status != "pending":
        raise Conflict(f"claim {claim_id} is already {claim.status}")
    claim.status = "confirmed" if confirm else "rejected"
    claim.decided_at, claim.decided_by = now, actor
    session.flush()
    return view(claim)
