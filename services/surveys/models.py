"""The surveys service's tables: surveys, their link tokens (hashed), templates and tenant settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import utcnow
from services.common.records import reliability_models


class Base(DeclarativeBase):
    pass


Outbox, Inbox, DeadLetter = reliability_models(Base)


class Survey(Base):
    """A survey sent to the reporter of a closed case (or a household in a campaign).

    ``status`` is issued, answered or voided; "expired" is derived from ``expires_at``. The
    link is announced once (``link_sent_at``), after the tenant's delay, and reminded at most
    once (``reminder_sent_at``). No token is kept here: see :class:`SurveyToken`.
    """

    __tablename__ = "surveys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str] = mapped_column(String(36))
    estate_id: Mapped[str] = mapped_column(String(36))
    closure_event_id: Mapped[str] = mapped_column(String(36), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # issued, answered, voided (expired is derived)
    case_title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    assignee: Mapped[str | None] = mapped_column(String(100), nullable=True)
    incident_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    campaign_id: Mapped[str | None] = mapped_column(String(36), nullable=True)  # then case_id is the campaign's
    template_version: Mapped[int] = mapped_column(Integer, default=0)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM of issue, Asia/Shanghai: the statistics' month
    respondent_name: Mapped[str] = mapped_column(String(50))
    respondent_phone: Mapped[str] = mapped_column(String(20))
    respondent_household: Mapped[str] = mapped_column(String(50))
    link_due_at: Mapped[datetime] = mapped_column(DateTime)
    link_sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reminder_due_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    speed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attitude: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quality: Mapped[int | None] = mapped_column(Integer, nullable=True)
    nps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ces: Mapped[int | None] = mapped_column(Integer, nullable=True)
    solved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)  # SHA-256(IP + UA), never the IP
    flagged_burst: Mapped[bool] = mapped_column(Boolean, default=False)
    # Answered by someone the community confirmed in this household (services/gateway/register.py):
    # only such answers count in the public league and the party branch's figures.
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_phone_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)  # SHA-256 of that phone
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reopened_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # case reopened after the answer
    # The case's reopen_count in the case.closed that issued it: only a reopen with a higher count
    # (one that came after this closure) touches the survey, whatever order the events arrive in.
    closure_reopen_count: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        Index("ix_surveys_tenant_case", "tenant", "case_id"),
        Index("ix_surveys_tenant_month", "tenant", "month"),  # rebuilding one tenant's tallies
        Index("ix_surveys_link_due", "status", "link_due_at"),
        Index("ix_surveys_reminder_due", "status", "reminder_due_at"),
        Index("ix_surveys_fingerprint", "fingerprint", "answered_at"),
        Index("ix_surveys_incident_household", "tenant", "incident_id", "respondent_household"),
        # One survey, so one answer, per household per campaign.
        UniqueConstraint("campaign_id", "estate_id", "respondent_household", name="uq_surveys_campaign_household"),
    )


class SurveyToken(Base):
    """A link's token, as its SHA-256 only. The first link and the reminder's each have one."""

    __tablename__ = "survey_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(36), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # issued, reminder
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SurveyTemplate(Base):
    """One version of a tenant's questionnaire; the newest is used for new surveys."""

    __tablename__ = "survey_templates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(100))
    speed: Mapped[bool] = mapped_column(Boolean)
    attitude: Mapped[bool] = mapped_column(Boolean)
    quality: Mapped[bool] = mapped_column(Boolean)
    nps: Mapped[bool] = mapped_column(Boolean)
    ces: Mapped[bool] = mapped_column(Boolean)
    solved: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("tenant", "version", name="uq_survey_templates_tenant_version"),)


class SurveyCampaign(Base):
    """An estate-wide satisfaction survey (e.g. quarterly 邀业主评事) to every household listed."""

    __tablename__ = "survey_campaigns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(100))
    estate_ids: Mapped[list] = mapped_column(JSON)
    households: Mapped[int] = mapped_column(Integer)
    template_version: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SurveySettings(Base):
    """A tenant's survey timing; a tenant without a row gets the defaults."""

    __tablename__ = "survey_settings"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    link_delay_minutes: Mapped[int] = mapped_column(Integer)
    expiry_days: Mapped[int] = mapped_column(Integer)
    reminder_after_hours: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SurveyTally(Base):
    """Running counts of one group's survey figures (see :mod:`services.surveys.tallies`)."""

    __tablename__ = "survey_tallies"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    estate_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    assignee: Mapped[str] = mapped_column(String(100), primary_key=True)  # '' when none
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    responses: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    score_sum: Mapped[int] = mapped_column(Integer, default=0)
    nps_responses: Mapped[int] = mapped_column(Integer, default=0)
    promoters: Mapped[int] = mapped_column(Integer, default=0)
    detractors: Mapped[int] = mapped_column(Integer, default=0)
    ces_responses: Mapped[int] = mapped_column(Integer, default=0)
    ces_sum: Mapped[int] = mapped_column(Integer, default=0)
    low_scores: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    flagged_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    flagged_score_sum: Mapped[int] = mapped_column(Integer, default=0)
    flagged_nps_responses: Mapped[int] = mapped_column(Integer, default=0)
    flagged_promoters: Mapped[int] = mapped_column(Integer, default=0)
    flagged_detractors: Mapped[int] = mapped_column(Integer, default=0)
    # Answers nobody confirmed came from the household: the company sees them, the league does not.
    unverified_responses: Mapped[int] = mapped_column(Integer, default=0)
    unverified_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    unverified_score_sum: Mapped[int] = mapped_column(Integer, default=0)
    unverified_nps_responses: Mapped[int] = mapped_column(Integer, default=0)
    unverified_promoters: Mapped[int] = mapped_column(Integer, default=0)
    unverified_detractors: Mapped[int] = mapped_column(Integer, default=0)
    unverified_ces_responses: Mapped[int] = mapped_column(Integer, default=0)
    unverified_ces_sum: Mapped[int] = mapped_column(Integer, default=0)
    unverified_low_scores: Mapped[int] = mapped_column(Integer, default=0)
    unverified_reopened: Mapped[int] = mapped_column(Integer, default=0)
    unverified_flagged: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_survey_tallies_tenant_month", "tenant", "month"),)


class Watermark(Base):
    """How far a background sweep has got (the outbox link scrubber)."""

    __tablename__ = "watermarks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
