"""The requests service's tables: estates, cases and each case's history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.common.db import utcnow
from services.common.records import reliability_models


class Base(DeclarativeBase):
    pass


Outbox, Inbox, DeadLetter = reliability_models(Base)


class Estate(Base):
    """A 小区 managed by one property company (the tenant)."""

    __tablename__ = "estates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(200), nullable=True)
    households: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Case(Base):
    """A resident's case (诉求): a repair, a complaint, a suggestion, a question, an emergency."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    estate_id: Mapped[str] = mapped_column(ForeignKey("estates.id"))
    category: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    reporter_name: Mapped[str] = mapped_column(String(50))
    reporter_phone: Mapped[str] = mapped_column(String(20))
    reporter_household: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(100), nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    history: Mapped[list[CaseHistory]] = relationship(
        order_by="CaseHistory.id", lazy="selectin", cascade="all, delete-orphan"
    )

    __table_args__ = (
        Index("ix_cases_tenant_id", "tenant", "id"),
        Index("ix_cases_tenant_status", "tenant", "status", "id"),
        Index("ix_cases_tenant_estate", "tenant", "estate_id", "id"),
    )


class CaseHistory(Base):
    """One transition of a case: who did what, from which state to which, and why."""

    __tablename__ = "case_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
