"""The notifications service's tables: contacts, deliveries and the in-app inbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import utcnow
from services.common.records import reliability_models


class Base(DeclarativeBase):
    pass


Outbox, Inbox, DeadLetter = reliability_models(Base)


class Contact(Base):
    """How to reach one person of a tenant (resident, staff, volunteer)."""

    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(50), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    role: Mapped[str] = mapped_column(String(16), default="resident")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("tenant", "phone", name="uq_contact_tenant_phone"),)


class Delivery(Base):
    """One message on one channel to one person: queued → sent / delivered / failed.

    ``body`` is kept with survey links redacted; the full text exists only in transit and in
    the recipient's own in-app inbox.
    """

    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    trigger_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    recipient_phone: Mapped[str] = mapped_column(String(20))
    recipient_role: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # The unredacted text while in transit; cleared once the delivery is final.
    outbound: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("trigger_id", "channel", "recipient_phone", name="uq_delivery_once"),
        Index("ix_deliveries_tenant_phone", "tenant", "recipient_phone", "id"),
        Index("ix_deliveries_queue", "status", "next_attempt_at"),
    )


class InboxMessage(Base):
    """The in-app inbox of a person (the default channel)."""

    __tablename__ = "inbox_messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    recipient_phone: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (Index("ix_inbox_messages_phone", "tenant", "recipient_phone", "id"),)
