"""The notifications service's tables: contacts and their topics, deliveries, the in-app inbox,
broadcasts with their recipients, webhook subscriptions and their deliveries, tenant settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
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
    wechat_openid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    estate_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    household: Mapped[str | None] = mapped_column(String(50), nullable=True)
    building: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # {"activity": ["inapp"], "case": ["inapp", "aliyun_sms"]}: channels wanted per kind of message.
    preferences: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (
        UniqueConstraint("tenant", "phone", name="uq_contact_tenant_phone"),
        Index("ix_contacts_household", "tenant", "estate_id", "household"),
    )


class ContactTeam(Base):
    """A contact's membership of a team (义务维修队, 红新小分队): a topic one can notify."""

    __tablename__ = "contact_teams"

    contact_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    team: Mapped[str] = mapped_column(String(50), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_contact_teams_team", "tenant", "team"),)


class TenantSettings(Base):
    """What a property company sets for its messages: its name, hotline and quiet hours."""

    __tablename__ = "tenant_settings"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_name: Mapped[str | None] = mapped_column(String(50), nullable=True)
    hotline: Mapped[str | None] = mapped_column(String(30), nullable=True)
    quiet_start: Mapped[str] = mapped_column(String(5), default="22:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="07:00")
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")


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
    # Template parameters for SMS/WeChat while in transit (may hold a survey link); cleared when final.
    outbound_params: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    html: Mapped[str | None] = mapped_column(Text, nullable=True)

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


class Broadcast(Base):
    """One message to many: a notice, an incident, an activity, or an API notification.

    Recipients are planned once (``broadcast_recipients``); the dispatcher then works through
    them in batches, so progress survives a crash and nobody is told twice.
    """

    __tablename__ = "broadcasts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(String(64))
    variables: Mapped[dict] = mapped_column(JSON)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    topic: Mapped[dict] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    # What caused it, when an event did: the event's subject (an incident's id), so an incident's
    # page finds the broadcasts that told its households.
    subject: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Who sent a notice: a key (``company/prefix``) or a person at the workbench (``staff:<id>/<name>``).
    created_by: Mapped[str | None] = mapped_column(String(160), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="sending")  # sending → done
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("tenant", "idempotency_key", name="uq_broadcast_idempotency"),
        Index("ix_broadcasts_tenant_subject", "tenant", "subject"),
    )


class BroadcastRecipient(Base):
    """One household (or person) of a broadcast: pending → sent / failed."""

    __tablename__ = "broadcast_recipients"

    broadcast_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(50), nullable=True)
    role: Mapped[str] = mapped_column(String(16), default="resident")
    estate_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    household: Mapped[str | None] = mapped_column(String(50), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_broadcast_recipients_pending", "status", "broadcast_id", "seq"),
        Index("ix_broadcast_recipients_progress", "broadcast_id", "status"),
    )


class WebhookSubscription(Base):
    """A tenant's own endpoint for some event types; disabled after sustained failures."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(500))
    event_types: Mapped[list] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(64))
    # After a rotation the old secret still signs (a second signature) until it expires.
    previous_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | disabled
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_webhook_subscriptions_tenant", "tenant", "status"),)


class WebhookDelivery(Base):
    """One event to one endpoint, retried like any delivery; ``webhook-id`` is the event id."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    subscription_id: Mapped[str] = mapped_column(String(36))
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)  # generic: never what a socket said
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the last answer's HTTP status
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_delivery_once"),
        Index("ix_webhook_deliveries_queue", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription", "subscription_id", "id"),
    )
