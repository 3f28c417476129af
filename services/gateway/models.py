"""The gateway's tables: tenants (property companies) and their API keys (hashed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import utcnow
from services.common.records import reliability_models


class Base(DeclarativeBase):
    pass


Outbox, Inbox, DeadLetter = reliability_models(Base)


class Tenant(Base):
    """A property company (物业公司), grouped under a community (社区)."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    community: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ApiKey(Base):
    """An API key: only its SHA-256 and a short prefix for people to recognise it."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(24))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32), default="company_admin")
    rate_limit: Mapped[str | None] = mapped_column(String(64), nullable=True)  # e.g. "100/second"; None: default
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class IdempotentRequest(Base):
    """A POST made with an ``Idempotency-Key``: its fingerprint and, once answered, the answer.

    ``scope`` is the SHA-256 of the caller's credential (the API key, or the survey link for
    a resident), so two integrators can use the same key without meeting.
    """

    __tablename__ = "idempotent_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # in_flight, done
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    headers: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("scope", "key", name="uq_idempotent_scope_key"),
        Index("ix_idempotent_created", "created_at"),
    )
