"""The service-hours ledger (志愿服务时长): append-only lines, totals and a publishable ranking.

Lines are never edited. A completed visit or an attended shift credits one line, keyed by
its source (a unique constraint makes a second credit impossible); a mistake is fixed by a
``correction`` line that points at the line it corrects. Totals are sums of whole minutes,
so they match the ledger exactly. Months and years are those of Asia/Shanghai.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.db import utcnow
from services.common.errors import NotFound
from services.common.ids import new_id
from services.volunteers import registry, teams
from services.volunteers.assignment import SHANGHAI
from services.volunteers.models import HoursEntry
from services.volunteers.schemas import HoursEntrySchema


@dataclass(frozen=True)
class Line:
    """A ledger line as the totals see it."""

    volunteer_id: str
    estate_id: str | None
    minutes: int
    served_at: datetime  # naive UTC


def local_month(served_at: datetime) -> str:
    """ "YYYY-MM" of a naive-UTC moment in Asia/Shanghai (a 23:30 UTC shift on the 31st is next month)."""
    return served_at.replace(tzinfo=UTC).astimezone(SHANGHAI).strftime("%Y-%m")


def in_period(line: Line, year: int | None, month: int | None) -> bool:
    if year is None:
        return True
    stamp = local_month(line.served_at)
    return stamp[:4] == f"{year:04d}" and (month is None or stamp == f"{year:04d}-{month:02d}")


def totals(
    lines: Iterable[Line],
    by: str,
    team_members: Mapping[str, set[str]] | None = None,
) -> dict[str, tuple[int, int]]:
    """Group key → (minutes, number of lines). A volunteer's line counts for each team they are in."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    team_of: dict[str, list[str]] = defaultdict(list)
    for team_id, members in (team_members or {}).items():
        for member in members:
            team_of[member].append(team_id)
    for line in lines:
        if by == "volunteer":
            keys = [line.volunteer_id]
        elif by == "team":
            keys = team_of.get(line.volunteer_id, [])
        elif by == "estate":
            keys = [line.estate_id or "-"]
        elif by == "month":
            keys = [local_month(line.served_at)]
        elif by == "year":
            keys = [local_month(line.served_at)[:4]]
        else:
            raise ValueError(f"cannot total by {by!r}")
        for key in keys:
            sums[key][0] += line.minutes
            sums[key][1] += 1
    return {key: (value[0], value[1]) for key, value in sums.items()}


def ranking(per_volunteer: Mapping[str, int], limit: int) -> list[tuple[int, str, int]]:
    """(rank, volunteer id, minutes), most hours first; equal hours share a rank (1, 2, 2, 4)."""
    ordered = sorted(((m, v) for v, m in per_volunteer.items() if m > 0), key=lambda item: (-item[0], item[1]))
    ranked: list[tuple[int, str, int]] = []
    for index, (minutes, volunteer_id) in enumerate(ordered[:limit]):
        rank = ranked[-1][0] if ranked and ranked[-1][2] == minutes else index + 1
        ranked.append((rank, volunteer_id, minutes))
    return ranked


def as_hours(minutes: int) -> float:
    return round(minutes / 60, 2)


# --- database --------------------------------------------------------------------------------


def credit(
    session: Session,
    tenant: str,
    *,
    volunteer_id: str,
    estate_id: str | None,
    minutes: int,
    reason: str,
    source: str,
    source_id: str,
    served_at: datetime,
) -> HoursEntry | None:
    """Append a credit line; ``None`` when this source was already credited (nothing changes).

    Callers hold the source (a visit or signup row claimed by a conditional update), so the
    check below is exact; the unique constraint on (source, source_id) is the backstop.
    """
    taken = session.scalar(select(HoursEntry.id).where(HoursEntry.source == source, HoursEntry.source_id == source_id))
    if taken is not None:
        return None
    entry = HoursEntry(
        id=new_id(),
        tenant=tenant,
        volunteer_id=volunteer_id,
        estate_id=estate_id,
        minutes=minutes,
        reason=reason[:200],
        source=source,
        source_id=source_id,
        served_at=served_at,
        created_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry


def dump(entry: HoursEntry) -> dict:
    return HoursEntrySchema().dump(entry) | {"hours": as_hours(entry.minutes)}


def correct(session: Session, tenant: str, data: dict) -> dict:
    """A new ``correction`` line for the corrected line's volunteer and estate; the original stays."""
    original = session.scalars(
        select(HoursEntry).where(HoursEntry.id == data["corrects_entry_id"], HoursEntry.tenant == tenant)
    ).first()
    if original is None:
        raise NotFound(f"ledger entry {data['corrects_entry_id']} not found")
    entry_id = new_id()
    entry = HoursEntry(
        id=entry_id,
        tenant=tenant,
        volunteer_id=original.volunteer_id,
        estate_id=original.estate_id,
        minutes=round(data["hours"] * 60),
        reason=data["reason"],
        source="correction",
        source_id=entry_id,
        corrects_entry_id=original.id,
        served_at=original.served_at,
        created_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    return dump(entry)


def _lines(session: Session, tenant: str, volunteer_id: str | None = None) -> list[HoursEntry]:
    query = select(HoursEntry).where(HoursEntry.tenant == tenant)
    if volunteer_id is not None:
        query = query.where(HoursEntry.volunteer_id == volunteer_id)
    return list(session.scalars(query.order_by(HoursEntry.created_at, HoursEntry.id)))


def _line(entry: HoursEntry) -> Line:
    return Line(entry.volunteer_id, entry.estate_id, entry.minutes, entry.served_at)


def ledger(session: Session, tenant: str, query: dict) -> list[dict]:
    """Every line (oldest first), optionally of one volunteer and one year/month."""
    if query.get("volunteer_id"):
        registry.find(session, tenant, query["volunteer_id"])
    entries = _lines(session, tenant, query.get("volunteer_id"))
    return [dump(e) for e in entries if in_period(_line(e), query.get("year"), query.get("month"))]


def period_totals(session: Session, tenant: str, query: dict) -> list[dict]:
    """Totals grouped ``by`` volunteer, team, estate, month or year, within an optional period."""
    lines = [
        _line(e)
        for e in _lines(session, tenant, query.get("volunteer_id"))
        if in_period(_line(e), query.get("year"), query.get("month"))
    ]
    by = query.get("by", "volunteer")
    team_rows = teams.members_by_team(session, tenant) if by == "team" else {}
    grouped = totals(lines, by, {tid: members for tid, (_, members) in team_rows.items()})
    people = registry.names(session, tenant, set(grouped)) if by == "volunteer" else {}
    label = {tid: name for tid, (name, _) in team_rows.items()} | {vid: v.name for vid, v in people.items()}
    return [
        {"key": key, "name": label.get(key), "hours": as_hours(minutes), "minutes": minutes, "entries": count}
        for key, (minutes, count) in sorted(grouped.items())
    ]


def publishable_ranking(session: Session, tenant: str, query: dict) -> list[dict]:
    """Names and hours only (no phones): what the party branch may post on the notice board."""
    lines = [_line(e) for e in _lines(session, tenant) if in_period(_line(e), query.get("year"), query.get("month"))]
    per_volunteer = {key: minutes for key, (minutes, _) in totals(lines, "volunteer").items()}
    ranked = ranking(per_volunteer, query.get("limit", 20))
    people = registry.names(session, tenant, {vid for _, vid, _ in ranked})
    return [
        {
            "rank": rank,
            "volunteer_id": vid,
            "name": people[vid].name if vid in people else "",
            "party_member": bool(people[vid].party_member) if vid in people else False,
            "hours": as_hours(minutes),
        }
        for rank, vid, minutes in ranked
    ]
