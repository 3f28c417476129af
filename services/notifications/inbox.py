"""The in-app inbox: what a resident sees in the app, read or unread."""

from __future__ import annotations

from datetime import datetime

from marshmallow import RAISE, fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import NotFound
from services.common.fields import MobilePhone, utc_text
from services.common.pages import PageQuerySchema, page
from services.notifications.channels.log import redact
from services.notifications.models import InboxMessage


class InboxQuerySchema(PageQuerySchema):
    class Meta:
        unknown = RAISE

    phone = MobilePhone(required=True)
    unread = fields.Boolean(load_default=False)


def listing(session: Session, tenant: str | None, query: dict, resident: bool = False) -> dict:
    """A person's inbox. Survey links stay whole only when the resident reads it (a resident app
    acting for them, or their own page): the company being rated never sees a token (shown as
    ``/s/***``). ``tenant`` None: every company's messages to the phone (the resident's own page)."""
    select_ = select(InboxMessage).where(InboxMessage.recipient_phone == query["phone"])
    if tenant is not None:
        select_ = select_.where(InboxMessage.tenant == tenant)
    if query["unread"]:
        select_ = select_.where(InboxMessage.read_at.is_(None))
    rows, has_more = page(session, select_, InboxMessage.id, query["limit"], query["starting_after"])
    views = [view(row) for row in rows]
    if not resident:
        views = [item | {"body": redact(item["body"])} for item in views]
    return {"data": views, "has_more": has_more}


def mark_read(session: Session, tenant: str, message_id: str, now: datetime) -> dict:
    message = session.get(InboxMessage, message_id)
    if message is None or message.tenant != tenant:
        raise NotFound(f"message {message_id} not found")
    message.read_at = message.read_at or now
    return view(message) | {"body": redact(message.body)}


def view(row: InboxMessage) -> dict:
    return {
        "id": row.id,
        "subject": row.subject,
        "body": row.body,
        "created_at": utc_text(row.created_at),
        "read_at": utc_text(row.read_at),
    }
