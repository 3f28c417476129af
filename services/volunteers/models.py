"""The volunteers service's tables: volunteers, teams, follow-up visits (回访), the hours ledger and activities."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, Index, Integer, String, Text, UniqueConstraint, text
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
    party_member: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Weekly slots [{weekday, start "HH:MM", end "HH:MM"}] in Asia/Shanghai wall-clock time.
    availability: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))

    __table_args__ = (
        UniqueConstraint("tenant", "phone", name="uq_volunteer_tenant_phone"),
        Index("ix_volunteers_tenant", "tenant", "id"),
        # The volunteer's own pages find every company a signed-in phone volunteers for.
        Index("ix_volunteers_phone", "phone"),
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
    # Bumped by each claim (decline, completion): the conditional UPDATE that takes the row first.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # When the assigned volunteer said "I'll do it" (their page); cleared when the visit moves on.
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Who must not be offered this visit again: decliners and the holder it was taken from.
    declined_by: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # Why each decline happened ([{volunteer_id, reason, at}]): staff read it when a visit keeps moving.
    declines: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    taken_from: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # 0: never overdue; 1: moved once for being overdue; 2: left for staff (never swept again).
    overdue_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    __table_args__ = (
        Index("ix_visits_tenant_case", "tenant", "case_id"),
        Index("ix_visits_volunteer_status", "volunteer_id", "status"),
        # What the assignment rule reads on every closure, and the overdue sweep every minute:
        # each an index range, never a scan of every visit the tenant ever had.
        Index("ix_visits_tenant_status", "tenant", "status", "volunteer_id"),
        Index("ix_visits_tenant_assigned", "tenant", "assigned_at"),
        Index("ix_visits_volunteer_assigned", "volunteer_id", "assigned_at"),
        Index("ix_visits_status_due", "status", "due_at"),
    )


class Team(Base):
    """A volunteer team (红新小分队, 义务维修队 …) with a leader who is one of its members."""

    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    leader_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("tenant", "name", name="uq_team_tenant_name"),)


class TeamMember(Base):
    """Membership: a volunteer may be in several teams."""

    __tablename__ = "team_members"

    team_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_team_members_volunteer", "volunteer_id"),)


class HoursEntry(Base):
    """One line of the service-hours ledger (志愿服务时长). Never updated: corrections are new lines.

    Minutes, not fractional hours, so totals are exact sums of integers.
    """

    __tablename__ = "hours_entries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    volunteer_id: Mapped[str] = mapped_column(String(36))
    estate_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    minutes: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # visit, shift, correction
    source_id: Mapped[str] = mapped_column(String(36))
    corrects_entry_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    served_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        # A visit or a shift signup is credited once, whatever retries or races happen.
        UniqueConstraint("source", "source_id", name="uq_hours_source"),
        Index("ix_hours_tenant_volunteer", "tenant", "volunteer_id"),
    )


class ActivitySeries(Base):
    """A recurring activity (weekly, or monthly with a theme per month) that generates occurrences."""

    __tablename__ = "activity_series"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    estate_ids: Mapped[list] = mapped_column(JSON)
    place: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[str] = mapped_column(String(16))  # weekly, monthly
    weekday: Mapped[int] = mapped_column(Integer)
    week_of_month: Mapped[int | None] = mapped_column(Integer, nullable=True)
    start_time: Mapped[str] = mapped_column(String(5))
    end_time: Mapped[str] = mapped_column(String(5))
    starts_on: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date, nullable=True)
    themes: Mapped[dict] = mapped_column(JSON, default=dict)
    shifts: Mapped[list] = mapped_column(JSON, default=list)
    # Occurrences exist up to (excluding) this date; advanced by a conditional UPDATE, so
    # two instances never generate the same window twice.
    generated_until: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Activity(Base):
    """A community activity (义诊, 义务理发, 红色电影 …) on one date and place."""

    __tablename__ = "activities"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    series_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    occurs_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    title: Mapped[str] = mapped_column(String(150))
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    estate_ids: Mapped[list] = mapped_column(JSON)
    place: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # draft, published, cancelled
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Bumped by every sign-up: the conditional UPDATE that serialises sign-ups per activity
    # (a row lock on PostgreSQL, the write lock on SQLite) and the waiting-list order.
    signup_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("series_id", "occurs_on", name="uq_activity_occurrence"),
        Index("ix_activities_tenant_start", "tenant", "starts_at"),
    )


class Shift(Base):
    """A volunteer shift of an activity, with the skills it needs."""

    __tablename__ = "shifts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    activity_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(50))
    skills: Mapped[list] = mapped_column(JSON, default=list)
    needed: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    signup_seq: Mapped[int] = mapped_column(Integer, default=0)


class ShiftSignup(Base):
    """A volunteer on a shift; ``attended`` is recorded afterwards and credits hours."""

    __tablename__ = "shift_signups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    shift_id: Mapped[str] = mapped_column(String(36))
    activity_id: Mapped[str] = mapped_column(String(36), index=True)
    volunteer_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(16))  # signed_up, cancelled
    attended: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("shift_id", "volunteer_id", name="uq_shift_volunteer"),)


class ResidentSignup(Base):
    """A household's place at an activity: confirmed within capacity, else waiting in order."""

    __tablename__ = "resident_signups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    activity_id: Mapped[str] = mapped_column(String(36))
    household: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16))  # confirmed, waiting, cancelled
    position: Mapped[int] = mapped_column(Integer)
    attended: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        Index("ix_resident_signups_activity", "activity_id", "status", "position"),
        # One live sign-up per household per activity, enforced by the database as well.
        Index(
            "uq_resident_signup_household",
            "activity_id",
            "household",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
    )
