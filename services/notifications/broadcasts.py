"""Broadcasts: one message to every household of an estate (or building, or a team, or a list).

The recipients are planned once, in the transaction that creates the broadcast (one
INSERT … SELECT for a topic, multi-row inserts for a list); the dispatcher then takes pending
recipients in batches and, in one transaction per batch, inserts their deliveries and marks
them sent. A crash rolls back the batch in flight and nothing else, so a restarted service
carries on with no household told twice (recipient status, and the unique trigger × channel ×
phone of deliveries) and none skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Select, func, insert, literal, select, update
from sqlalchemy.orm import Session

from services.common.errors import NotFound
from services.common.ids import new_id
from services.common.pages import page
from services.notifications import bulk
from services.notifications.models import Broadcast, BroadcastRecipient, Contact, ContactTeam, Delivery


def primary_contacts(tenant: str, topic: Mapping) -> Select:
    """The ids a topic reaches: each household's primary contact, or each member of a team.

    A household is a distinct (estate, household) among the tenant's resident contacts; its
    primary contact is its earliest-registered resident (ids are time-ordered), so it stays the
    same however often the tenant re-imports.
    """
    if topic.get("team"):
        return select(ContactTeam.contact_id).where(ContactTeam.tenant == tenant, ContactTeam.team == topic["team"])
    residents = select(func.min(Contact.id)).where(
        Contact.tenant == tenant,
        Contact.role == "resident",
        Contact.estate_id.in_(topic["estate_ids"]),
        Contact.household.is_not(None),
    )
    if topic.get("building"):
        residents = residents.where(Contact.building == topic["building"])
    return residents.group_by(Contact.estate_id, Contact.household)


def plan_topic(session: Session, broadcast_id: str, tenant: str, topic: Mapping) -> int:
    """INSERT … SELECT the recipients in the database itself: 7,000 rows, one statement."""
    chosen = select(
        literal(broadcast_id).label("broadcast_id"),
        Contact.phone,
        (func.row_number().over(order_by=Contact.id) - 1).label("seq"),
        Contact.name,
        Contact.role,
        Contact.estate_id,
        Contact.household,
        literal("pending").label("status"),
    ).where(Contact.tenant == tenant, Contact.id.in_(primary_contacts(tenant, topic)))
    columns = ["broadcast_id", "phone", "seq", "name", "role", "estate_id", "household", "status"]
    session.execute(insert(BroadcastRecipient).from_select(columns, chosen))
    return session.scalar(
        select(func.count()).select_from(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == broadcast_id)
    )


def create(
    session: Session,
    *,
    tenant: str,
    kind: str,
    template: str,
    variables: Mapping,
    critical: bool,
    topic: Mapping,
    idempotency_key: str,
    now: datetime,
    phones: Sequence[str] = (),
    subject: str | None = None,
    created_by: str | None = None,
) -> tuple[Broadcast, bool]:
    """The broadcast for ``idempotency_key`` and whether it is new; its recipients planned in bulk."""
    existing = by_key(session, tenant, idempotency_key)
    if existing is not None:
        return existing, False
    broadcast = Broadcast(
        id=new_id(),
        tenant=tenant,
        kind=kind,
        template=template,
        variables=dict(variables),
        critical=critical,
        topic=dict(topic) if not phones else {"recipients": len(set(phones))},
        idempotency_key=idempotency_key,
        subject=subject,
        created_by=created_by,
        status="sending",
        total=0,
        created_at=now,
    )
    session.add(broadcast)
    session.flush()  # the same key concurrently: the unique index makes the loser fail (and its caller retry)
    if phones:
        people = [
            {"broadcast_id": broadcast.id, "phone": phone, "seq": n, "name": None, "role": "resident"}
            | {"estate_id": None, "household": None, "status": "pending"}
            for n, phone in enumerate(dict.fromkeys(phones))
        ]
        bulk.insert_rows(session, BroadcastRecipient, people)
        broadcast.total = len(people)
    else:
        broadcast.total = plan_topic(session, broadcast.id, tenant, topic)
    if broadcast.total == 0:
        broadcast.status, broadcast.finished_at = "done", now
    return broadcast, True


def by_key(session: Session, tenant: str, key: str) -> Broadcast | None:
    return session.scalars(
        select(Broadcast).where(Broadcast.tenant == tenant, Broadcast.idempotency_key == key)
    ).one_or_none()


def get(session: Session, tenant: str, broadcast_id: str) -> Broadcast:
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.tenant != tenant:
        raise NotFound(f"{broadcast_id} not found")
    return broadcast


def of_tenant(
    session: Session, tenant: str, limit: int, starting_after: str | None, subject: str | None = None
) -> tuple[list[Broadcast], bool]:
    """The tenant's broadcasts, newest first; with ``subject``, only those its events caused."""
    query = select(Broadcast).where(Broadcast.tenant == tenant)
    if subject is not None:
        query = query.where(Broadcast.subject == subject)
    return page(session, query, Broadcast.id, limit, starting_after)


def claim(session: Session, limit: int) -> list[BroadcastRecipient]:
    """A batch of pending recipients, locked (SKIP LOCKED) so instances share the work."""
    return list(
        session.scalars(
            select(BroadcastRecipient)
            .where(BroadcastRecipient.status == "pending")
            .order_by(BroadcastRecipient.broadcast_id, BroadcastRecipient.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def mark(session: Session, status: str, recipients: Sequence[tuple[BroadcastRecipient, str | None]]) -> None:
    """Set the status of a batch's recipients: one UPDATE per broadcast, not one per row."""
    by_broadcast: dict[tuple[str, str | None], list[str]] = {}
    for recipient, error in recipients:
        by_broadcast.setdefault((recipient.broadcast_id, error), []).append(recipient.phone)
    for (broadcast_id, error), phones in by_broadcast.items():
        session.execute(
            update(BroadcastRecipient)
            .where(BroadcastRecipient.broadcast_id == broadcast_id, BroadcastRecipient.phone.in_(phones))
            .values(status=status, error=error)
            .execution_options(synchronize_session=False)
        )


def finish(session: Session, now: datetime) -> int:
    """Mark done every sending broadcast with no pending recipient left."""
    pending = select(BroadcastRecipient.broadcast_id).where(
        BroadcastRecipient.broadcast_id == Broadcast.id, BroadcastRecipient.status == "pending"
    )
    result = session.execute(
        update(Broadcast)
        .where(Broadcast.status == "sending", ~pending.exists())
        .values(status="done", finished_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def progress(session: Session, broadcast: Broadcast) -> dict:
    counts = dict(
        session.execute(
            select(BroadcastRecipient.status, func.count())
            .where(BroadcastRecipient.broadcast_id == broadcast.id)
            .group_by(BroadcastRecipient.status)
        ).all()
    )
    return {
        "total": broadcast.total,
        "pending": counts.get("pending", 0),
        "sent": counts.get("sent", 0),
        "failed": counts.get("failed", 0),
    }


def channel_counts(session: Session, trigger_id: str) -> dict:
    rows = session.execute(
        select(Delivery.channel, Delivery.status, func.count())
        .where(Delivery.trigger_id == trigger_id)
        .group_by(Delivery.channel, Delivery.status)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for channel, status, count in rows:
        counts.setdefault(channel, {})[status] = count
    return counts


def view(session: Session, broadcast: Broadcast) -> dict:
    return {
        "id": broadcast.id,
        "kind": broadcast.kind,
        "template": broadcast.template,
        "title": (broadcast.variables or {}).get("title"),
        "subject": broadcast.subject,
        "created_by": broadcast.created_by,
        "severity": "critical" if broadcast.critical else "normal",
        "topic": broadcast.topic,
        "status": broadcast.status,
        **progress(session, broadcast),
        "channels": channel_counts(session, broadcast.id),
        "created_at": broadcast.created_at.isoformat(),
        "finished_at": broadcast.finished_at.isoformat() if broadcast.finished_at else None,
    }
