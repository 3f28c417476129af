"""Turning events into deliveries, and deliveries into messages on channels.

A handler only *queues* deliveries, in the same transaction as its inbox row; the
dispatcher sends them afterwards. So a redelivered event queues nothing new (inbox and a
unique key per trigger × channel × recipient) and a crash never loses a queued message.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.common import metrics
from services.common.db import utcnow
from services.common.ids import new_id
from services.common.pages import page
from services.notifications.channels.base import Failed, Message, Recipient, RetryLater, Sent
from services.notifications.models import Contact, Delivery, InboxMessage
from services.notifications.templates import render

log = logging.getLogger(__name__)

SURVEY_LINK = re.compile(r"(/s/)[A-Za-z0-9_\-]+")
MAX_ATTEMPTS = 8


def redact(text: str) -> str:
    """Survey tokens travel only to the resident: records keep ``/s/***``."""
    return SURVEY_LINK.sub(r"\1***", text)


def upsert_contact(session: Session, tenant: str, phone: str, name: str | None, role: str) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(Contact)
        .values(id=new_id(), tenant=tenant, phone=phone, name=name, role=role, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["tenant", "phone"])
    )


def queue(
    session: Session,
    *,
    tenant: str,
    trigger_id: str,
    kind: str,
    template: str,
    phone: str,
    role: str,
    channels: list[str],
    variables: dict,
) -> list[Delivery]:
    """Queue one delivery per channel for one recipient; full text goes to the inbox only."""
    subject, body = render(template, **variables)
    queued = []
    now = utcnow()
    for channel in channels:
        delivery = Delivery(
            id=new_id(),
            tenant=tenant,
            trigger_id=trigger_id,
            kind=kind,
            channel=channel,
            recipient_phone=phone,
            recipient_role=role,
            subject=subject,
            body=redact(body),
            outbound=body,
            status="queued",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
        session.add(delivery)
        if channel == "inapp":
            # The resident's own inbox is where the full text (link included) lives.
            session.add(
                InboxMessage(
                    id=new_id(),
                    tenant=tenant,
                    delivery_id=delivery.id,
                    recipient_phone=phone,
                    subject=subject,
                    body=body,
                    created_at=now,
                )
            )
            delivery.status = "delivered"
            delivery.attempts = 1
            delivery.sent_at = now
            delivery.outbound = None
            metrics.NOTIFICATIONS.labels(channel, delivery.status).inc()
        queued.append(delivery)
    session.flush()
    log.info("%s: queued %s to %s %s", kind, ",".join(channels), role, mask(phone))
    return queued


def mask(phone: str) -> str:
    """+8613912345678 → +86139****5678: enough to recognise, not enough to call."""
    return phone[:-8] + "****" + phone[-4:] if len(phone) > 8 else "****"


def backoff(attempt: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** (attempt - 1), 900))


def record_result(delivery: Delivery, result: Sent | RetryLater | Failed, now: datetime) -> None:
    delivery.attempts += 1
    if isinstance(result, Sent):
        delivery.status = "sent"
        delivery.sent_at = now
        delivery.last_error = None
    elif isinstance(result, RetryLater) and delivery.attempts < MAX_ATTEMPTS:
        delivery.status = "queued"
        delivery.last_error = result.reason
        wait = timedelta(seconds=result.after_seconds) if result.after_seconds else backoff(delivery.attempts)
        delivery.next_attempt_at = now + wait
    else:
        delivery.status = "failed"
        delivery.last_error = result.reason
    if delivery.status != "queued":
        delivery.outbound = None
    metrics.NOTIFICATIONS.labels(delivery.channel, delivery.status).inc()  # "queued" here: will retry


def message_for(delivery: Delivery, email: str | None) -> Message:
    return Message(
        kind=delivery.kind,
        recipient=Recipient(phone=delivery.recipient_phone, email=email),
        subject=delivery.subject,
        body=delivery.outbound or delivery.body,
        params={},
        idempotency_key=delivery.id,
    )


def due(session: Session, now: datetime, limit: int) -> list[Delivery]:
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.status == "queued", Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def for_recipient(session: Session, tenant: str, phone: str, limit: int, starting_after: str | None) -> dict:
    query = select(Delivery).where(Delivery.tenant == tenant, Delivery.recipient_phone == phone)
    rows, has_more = page(session, query, Delivery.id, limit, starting_after)
    return {"data": [delivery_view(row) for row in rows], "has_more": has_more}


def delivery_view(row: Delivery) -> dict:
    return {
        "id": row.id,
        "kind": row.kind,
        "channel": row.channel,
        "recipient_phone": row.recipient_phone,
        "recipient_role": row.recipient_role,
        "subject": row.subject,
        "body": row.body,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "trigger_id": row.trigger_id,
        "created_at": row.created_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
    }
