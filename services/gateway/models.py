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
    label: Mapped[str | None] = mapped_column(String(100), nullable=True)  # an app key's app (operator-issued)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class IdempotentRequest(Base):
    """A POST made with an ``Idempotency-Key``: its fingerprint and, once answered, the answer.

    ``scope`` is the SHA-256 of who calls and where (company, API key, the resident an app acts
    for, method, path: :func:`services.gateway.idempotency.scope_of`), so two integrators, or two
    residents of one app, can use the same key without meeting. Only authenticated callers have
    rows, and ``body`` never holds a secret (it is set to null, see the idempotency module).
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


# --- people who sign in themselves (residents, volunteers, staff, supervisors) ----------------


class Person(Base):
    """Someone who signs in with a phone verified by a one-time code.

    One person per phone, whatever they are (a resident, a volunteer, later staff): what they
    may do comes from where the phone is registered (the community's household register, the
    volunteer registry), never from a choice made at sign-in.
    """

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # the first accepted code


class SignInCode(Base):
    """A one-time sign-in code: only its keyed hash is kept; 5 wrong tries lock it."""

    __tablename__ = "sign_in_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (Index("ix_sign_in_codes_phone_created", "phone", "created_at"),)


class PersonSession(Base):
    """A signed-in session: the id is the SHA-256 of the opaque token in the cookie (or app header).

    Server-side, so signing out ends it everywhere at once: every gateway instance reads it here.
    ``app_key_id`` is set when a first-party app obtained it for its user (the resident typed the
    code into the app); such a token works only together with that app's key.
    """

    __tablename__ = "person_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    app_key_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    csrf: Mapped[str] = mapped_column(String(64))  # the forms' CSRF token of this session
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class HouseholdMember(Base):
    """A phone bound to a household (楼-单元-室) of an estate, as the *community* confirmed it.

    Rows come from the community's household register (imported by its supervisor) or from a
    resident's claim that a supervisor confirmed; never from the company being rated. Only a
    ``confirmed`` row makes a resident's vote count for the household and their survey answer
    count in the league.
    """

    __tablename__ = "household_members"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    community: Mapped[str] = mapped_column(String(100), index=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    estate_id: Mapped[str] = mapped_column(String(64))
    household: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(16))  # pending, confirmed, rejected
    source: Mapped[str] = mapped_column(String(16))  # register, claim
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)

    __table_args__ = (UniqueConstraint("estate_id", "household", "phone", name="uq_household_members"),)


class StaffMembership(Base):
    """A person's place in the workbench: staff of a company (``tenant_id``) or a supervisor of a
    community (``community``), never both on one row.

    Invited by phone (the person row is made then, verified at their first sign-in). The first
    admin of a company and the first supervisor of a community are invited by the platform's
    operator (``invited_by`` = ``operator``); everyone else by an admin of their own company or a
    supervisor of their own community (``staff:<person id>``). Rows are revoked, never deleted:
    together they are the audit of who could act for whom, and when.
    """

    __tablename__ = "staff_memberships"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id"), nullable=True, index=True)
    community: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    role: Mapped[str] = mapped_column(String(32))  # company_admin, company_staff, supervisor
    name: Mapped[str] = mapped_column(String(50))  # how the person is shown in timelines and audits
    invited_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class WorkbenchAction(Base):
    """A change made at the workbench, with the person who made it (issue 16: every change audited).

    The services record a case's changes in its own history with the person; volunteers, teams,
    activities and a company's settings have no author of their own, so the gateway keeps this
    one record of every form a member submitted that changed something (a 2xx or 3xx answer to a
    workbench POST), whatever it changed. Written after the change: a record that fails to write
    is logged, never undoes it.
    """

    __tablename__ = "workbench_actions"
    __table_args__ = (
        Index("ix_workbench_actions_tenant_at", "tenant_id", "at"),
        Index("ix_workbench_actions_community_at", "community", "at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    person_id: Mapped[str] = mapped_column(String(36))
    membership_id: Mapped[str] = mapped_column(String(36))
    actor: Mapped[str] = mapped_column(String(100))  # staff:<person id>/<name>, supervisor:<person id>/<name>
    tenant_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    community: Mapped[str | None] = mapped_column(String(100), nullable=True)
    route: Mapped[str] = mapped_column(String(200))  # the rule, e.g. /workbench/teams/<string:team_id>/members
    path: Mapped[str] = mapped_column(String(500))  # what it was done to
    status: Mapped[int] = mapped_column(Integer)
