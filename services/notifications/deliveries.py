"""Turning events into deliveries, and deliveries into messages on channels.

A handler only *queues* deliveries, in the same transaction as its inbox row; the
dispatcher sends them afterwards. So a redelivered event queues nothing new (inbox and a
unique key per trigger × channel × recipient) and a crash never loses a queued message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common import metrics
from services.common.db import utcnow
from services.common.ids import new_id
from services.common.pages import page
from services.notifications import backoff_policy, bulk, contacts
from services.notifications.channels import log as log_channel
from services.notifications.channels.base import Failed, Message, Recipient, RetryLater, Sent
from services.notifications.models import Contact, Delivery, InboxMessage
from services.notifications.preferences import Reach, plan
from services.notifications.quiet_hours import QuietHours
from services.notifications.settings import RetryPolicy, TemplateSpec, provider_params
from services.notifications.templates import params_of, render, render_for

log = logging.getLogger(__name__)

MAX_ATTEMPTS = RetryPolicy().max_attempts

__all__ = ["redact", "render", "queue", "record_result", "due", "for_recipient", "delivery_view"]


def redact(text: str) -> str:
    """Survey tokens travel only to the resident: records keep ``/s/***``."""
    return log_channel.redact(text)


@dataclass(frozen=True)
class Person:
    """Who one message goes to, with what we know of how to reach them."""

    phone: str
    name: str | None = None
    role: str = "resident"
    email: str | None = None
    wechat_openid: str | None = None
    preferences: Mapping[str, Sequence[str]] | None = None

    @classmethod
    def of(cls, contact: Contact | None, phone: str, name: str | None = None, role: str = "resident") -> Person:
        if contact is None:
            return cls(phone, name, role)
        return cls(phone, name or contact.name, role, contact.email, contact.wechat_openid, contact.preferences)


@dataclass(frozen=True)
class Sender:
    """The tenant's side of every message: its name and hotline, and its quiet hours."""

    values: Mapping[str, str] = field(default_factory=dict)
    quiet: QuietHours = QuietHours()


def queue(session: Session, **what: object) -> list[dict]:
    """Record one delivery per channel for one person (see :func:`plan_rows`); the rows inserted."""
    rows, inbox = plan_rows(**what)  # type: ignore[arg-type]
    insert_rows(session, rows, inbox)
    person = what["person"]
    channels = ",".join(row["channel"] for row in rows)
    log.info("%s: queued %s to %s %s", what["kind"], channels, person.role, mask(person.phone))  # type: ignore[attr-defined]
    return rows


def plan_rows(
    *,
    tenant: str,
    trigger_id: str,
    kind: str,
    template: str,
    person: Person,
    channels: Sequence[str],
    variables: Mapping[str, object],
    sender: Sender = Sender(),
    critical: bool = False,
    now: datetime | None = None,
) -> tuple[list[dict], list[dict]]:
    """The delivery rows for one person, and their in-app inbox row (the full text lives there only).

    In-app is delivered at once; a channel the person's preferences exclude is ``suppressed``;
    the rest are queued, those that buzz a phone until quiet hours end. Raises
    jinja2.UndefinedError when the template needs a variable that was not given.
    """
    now = now or utcnow()
    variables = {"name": person.name or "", **variables}
    reach = Reach(person.email, person.wechat_openid)
    rows, inbox = [], []
    for planned in plan(kind, channels, reach, person.preferences, sender.quiet, critical, now):
        text = render_for(template, planned.channel, variables, sender.values)
        in_transit = planned.status == "queued" and planned.channel != "inapp"
        row = {
            "id": new_id(),
            "tenant": tenant,
            "trigger_id": trigger_id,
            "kind": kind,
            "channel": planned.channel,
            "recipient_phone": person.phone,
            "recipient_role": person.role,
            "subject": text.subject,
            "body": redact(text.body),
            # The unredacted text, parameters and HTML exist only while in transit.
            "outbound": text.body if in_transit else None,
            "outbound_params": params_of(variables, sender.values) if in_transit else None,
            "html": text.html if in_transit else None,
            "status": planned.status,
            "attempts": 0,
            "last_error": None,
            "created_at": now,
            "sent_at": None,
            "next_attempt_at": planned.not_before,
        }
        if planned.channel == "inapp":
            row |= {"status": "delivered", "attempts": 1, "sent_at": now}
            inbox.append(
                {
                    "id": new_id(),
                    "tenant": tenant,
                    "delivery_id": row["id"],
                    "recipient_phone": person.phone,
                    "subject": text.subject,
                    "body": text.body,
                    "created_at": now,
                    "read_at": None,
                }
            )
        elif planned.status == "suppressed":
            row["last_error"] = "suppressed by the recipient's preferences"
        if row["status"] != "queued":
            metrics.NOTIFICATIONS.labels(row["channel"], row["status"]).inc()
        rows.append(row)
    return rows, inbox


def insert_rows(session: Session, rows: Sequence[dict], inbox: Sequence[dict]) -> None:
    """Bulk INSERTs: one statement for the deliveries, one for the inbox (see ``bulk``)."""
    bulk.insert_rows(session, Delivery, rows)
    bulk.insert_rows(session, InboxMessage, inbox)


def deliver_inapp(session: Session, delivery: Delivery, body: str, now: datetime) -> None:
    """The resident's own inbox is where the full text (link included) lives."""
    session.add(
        InboxMessage(
            id=new_id(),
            tenant=delivery.tenant,
            delivery_id=delivery.id,
            recipient_phone=delivery.recipient_phone,
            subject=delivery.subject,
            body=body,
            created_at=now,
        )
    )
    delivery.status = "delivered"
    delivery.attempts = 1
    delivery.sent_at = now
    delivery.outbound = None
    delivery.outbound_params = None
    delivery.html = None
    metrics.NOTIFICATIONS.labels(delivery.channel, delivery.status).inc()


def mask(phone: str) -> str:
    """+8613912345678 → +86139****5678: enough to recognise, not enough to call."""
    return phone[:-8] + "****" + phone[-4:] if len(phone) > 8 else "****"


def record_result(
    delivery: Delivery, result: Sent | RetryLater | Failed, now: datetime, policy: RetryPolicy = RetryPolicy()
) -> None:
    """Sent is final; RetryLater waits (jittered backoff, or the provider's hint); Failed is final at once."""
    delivery.attempts += 1
    if isinstance(result, Sent):
        delivery.status = "sent"
        delivery.sent_at = now
        delivery.last_error = None
    elif isinstance(result, RetryLater) and delivery.attempts < policy.max_attempts:
        delivery.status = "queued"
        delivery.last_error = result.reason
        delivery.next_attempt_at = now + backoff_policy.wait(delivery.attempts, result.after_seconds, policy)
    else:
        delivery.status = "failed"
        delivery.last_error = result.reason
    if delivery.status != "queued":
        delivery.outbound = None
        delivery.outbound_params = None
        delivery.html = None
    metrics.NOTIFICATIONS.labels(delivery.channel, delivery.status).inc()  # "queued" here: will retry


def message_for(delivery: Delivery, contact: Contact | None, spec: TemplateSpec | None = None) -> Message:
    return Message(
        kind=delivery.kind,
        recipient=Recipient(
            phone=delivery.recipient_phone,
            email=contact.email if contact else None,
            wechat_openid=contact.wechat_openid if contact else None,
            name=contact.name if contact else None,
        ),
        subject=delivery.subject,
        body=delivery.outbound or delivery.body,
        params=provider_params(spec, delivery.outbound_params or {}),
        idempotency_key=delivery.id,
        html=delivery.html,
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


def postpone(delivery: Delivery, now: datetime, seconds: float) -> None:
    """Not now, and not an attempt either (our own rate limit said wait)."""
    delivery.next_attempt_at = now + timedelta(seconds=max(seconds, 0.05))


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
        "next_attempt_at": row.next_attempt_at.isoformat() if row.status == "queued" else None,
    }


def sender_for(session: Session, tenant: str) -> Sender:
    row = contacts.settings_of(session, tenant)
    return Sender(contacts.sender_values(row), contacts.quiet_hours(row))
