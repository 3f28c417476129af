"""The volunteers service's tables: volunteers and follow-up visits (回访)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import utcnow
from services.common.records import reliability_models


class Base(DeclarativeBase):
    pass


Outbox, Inbox, DeadLetter = reliability_models(Base)


class Volunteer(Base):
    """A party-member or resident volunteer (志愿者) of one tenant."""

    __tablename__ = "volunteers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    estate_ids: Mapped[list] = mapped_column(JSON)
    skills: Mapped[list] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("tenant", "phone", name="uq_volunteer_tenant_phone"),
        Index("ix_volunteers_tenant", "tenant", "id"),
    )


class Visit(Base):
    """A follow-up visit to the reporter of a closed case."""

    __tablename__ = "visits"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str] = mapped_column(String(36))
    estate_id: Mapped[str] = mapped_column(String(36))
    closure_event_id: Mapped[str] = mapped_column(String(36), unique=True)
    volunteer_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # scheduled, completed, cancelled
    due_at: Mapped[datetime] = mapped_column(DateTime)
    resident_name: Mapped[str] = mapped_column(String(50))
    resident_phone: Mapped[str] = mapped_column(String(20))
    resident_household: Mapped[str] = mapped_column(String(50))
    case_title: Mapped[str] = mapped_column(String(200))
    handler: Mapped[str | None] = mapped_column(String(100), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_visits_tenant_case", "tenant", "case_id"),
        Index("ix_visits_volunteer_status", "volunteer_id", "status"),
    )
