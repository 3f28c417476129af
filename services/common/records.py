"""Tables every service has: the outbox, the inbox and the dead-letter store.

Each service mixes these into its own declarative base, so they live in its own database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from services.common.db import utcnow


class OutboxRecord:
    """An event committed with the change that caused it, waiting for the relay."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    tenant: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple:  # noqa: N805
        return (Index("ix_outbox_pending", "sent_at", "id"),)


class InboxRecord:
    """An event a handler has applied; its presence makes redelivery a no-op."""

    __tablename__ = "inbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))
    handler: Mapped[str] = mapped_column(String(128))
    event_type: Mapped[str] = mapped_column(String(64))
    handled_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @declared_attr.directive
    def __table_args__(cls) -> tuple:  # noqa: N805
        return (UniqueConstraint("event_id", "handler", name="uq_inbox_event_handler"),)


class DeadLetterRecord:
    """A message whose handler failed every attempt; kept until an operator replays it."""

    __tablename__ = "dead_letters"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    queue: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    event_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    replayed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


def reliability_models(base: type) -> tuple[type, type, type]:
    """The outbox, inbox and dead-letter models of one service's declarative base."""
    outbox = type("Outbox", (OutboxRecord, base), {"__module__": base.__module__})
    inbox = type("Inbox", (InboxRecord, base), {"__module__": base.__module__})
    dead = type("DeadLetter", (DeadLetterRecord, base), {"__module__": base.__module__})
    return outbox, inbox, dead
