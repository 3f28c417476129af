"""The requests service's tables: estates, cases, their history, audit and photos, categories,
comments, escalations, estate incidents and owners' proposals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
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
    assignee_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)  # staff, team, volunteer
    incident_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    # SLA clocks (wall-clock hours): started at submission or reopen, shifted by time spent
    # waiting on the resident; the due times are materialised for queries and the breach scan.
    sla_started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    paused_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    response_due_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    resolution_due_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    response_breached_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The rating came from a resident the community confirmed in the household (the surveys
    # service's ``verified``): only such a rating is shown on the public board.
    rating_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    history: Mapped[list[CaseHistory]] = relationship(order_by="CaseHistory.id", lazy="selectin")
    escalations: Mapped[list[CaseEscalation]] = relationship(order_by="CaseEscalation.id", lazy="selectin")
    photos: Mapped[list[CasePhoto]] = relationship(order_by="CasePhoto.id", lazy="selectin")

    __table_args__ = (
        Index("ix_cases_tenant_id", "tenant", "id"),
        Index("ix_cases_tenant_status", "tenant", "status", "id"),
        Index("ix_cases_tenant_estate", "tenant", "estate_id", "id"),
        Index("ix_cases_status_due", "status", "resolution_due_at"),
        # The queue's counts under a date range or "escalated" read these alone (index-only on
        # PostgreSQL) instead of scanning the company's cases: 77 and 107 ms at 100,000 cases before.
        Index("ix_cases_tenant_created", "tenant", "created_at", "status"),
        Index("ix_cases_tenant_escalation", "tenant", "escalation_level", "status"),
    )


class CaseStatusCount(Base):
    """How many of a tenant's cases are in a status, kept with every change (services/requests/status_counts.py)."""

    __tablename__ = "case_status_counts"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class CaseBigram(Base):
    """One two-character piece of a case's title or description (services/requests/bigrams.py).

    The key's order (tenant, bigram, case id) lets a search walk one bigram's cases newest first.
    """

    __tablename__ = "case_bigrams"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    bigram: Mapped[str] = mapped_column(String(2), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class CaseRating(Base):
    """One survey's rating of a case; the case shows the newest one not voided (services/requests/ratings.py).

    Kept per survey because ``survey.answered`` and ``survey.answer_voided`` arrive on separate
    queues in either order: a void that comes first leaves a row with no score, which the
    late answer fills in without ever showing it.
    """

    __tablename__ = "case_ratings"

    survey_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: voided before the answer came
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


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


class CaseChange(Base):
    """The audit trail: one changed field (status included) with its before and after.

    Rows are only ever added; nothing about a case is deleted (cancellation is a state).
    """

    __tablename__ = "case_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    field: Mapped[str] = mapped_column(String(32))
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CaseEscalation(Base):
    """One escalation (吹哨) of a case to the community party branch supervisor."""

    __tablename__ = "case_escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CasePhoto(Base):
    """A photo of a case: its record only; the bytes are in the photo storage under ``storage_key``.

    Staff see every photo of their cases; the public board shows one only once it is published.
    """

    __tablename__ = "case_photos"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    tenant: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class CaseCategory(Base):
    """A tenant's own setting for one category: its name, SLA per priority, auto-assign team.

    Tenants without a row use the defaults in :mod:`services.requests.categories`.
    """

    __tablename__ = "case_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sla: Mapped[dict] = mapped_column(JSON)  # {priority: {"response_hours": h, "resolution_hours": h}}
    team: Mapped[str | None] = mapped_column(String(100), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("tenant", "code", name="uq_case_categories_tenant_code"),)


class CaseComment(Base):
    """A comment on a case (让业主议事): public, or internal to staff; or a supervisor's instruction."""

    __tablename__ = "case_comments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # comment, instruction
    author: Mapped[str] = mapped_column(String(100))
    author_role: Mapped[str] = mapped_column(String(16))  # resident, staff, supervisor
    visibility: Mapped[str] = mapped_column(String(16))  # public, internal
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Incident(Base):
    """Something that touches a whole estate (a two-day water outage); duplicates merge into it."""

    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    estate_id: Mapped[str] = mapped_column(ForeignKey("estates.id"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))  # critical, normal
    expected_end: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # declared, resolved
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    declared_by: Mapped[str] = mapped_column(String(100))
    declared_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    updates: Mapped[list[IncidentUpdate]] = relationship(order_by="IncidentUpdate.id", lazy="selectin")

    __table_args__ = (Index("ix_incidents_tenant_estate", "tenant", "estate_id", "id"),)


class IncidentUpdate(Base):
    """A progress note on an incident (water trucks arrived, new expected end)."""

    __tablename__ = "incident_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    expected_end: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Proposal(Base):
    """An owners' proposal for an estate (install EV chargers) with a voting window."""

    __tablename__ = "proposals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    estate_id: Mapped[str] = mapped_column(ForeignKey("estates.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    proposer: Mapped[str] = mapped_column(String(100))
    opens_at: Mapped[datetime] = mapped_column(DateTime)
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))  # open, closed
    support: Mapped[int] = mapped_column(Integer, default=0)
    oppose: Mapped[int] = mapped_column(Integer, default=0)
    abstain: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # passed, rejected, no_votes
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        Index("ix_proposals_tenant_estate", "tenant", "estate_id", "id"),
        Index("ix_proposals_status_closes", "status", "closes_at"),
    )


class ProposalVote(Base):
    """One household's vote: the unique key is what makes it one vote per household."""

    __tablename__ = "proposal_votes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"))
    household: Mapped[str] = mapped_column(String(50))
    choice: Mapped[str] = mapped_column(String(16))  # support, oppose, abstain
    voter: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("proposal_id", "household", name="uq_proposal_votes_household"),)
