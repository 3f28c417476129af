"""The surveys service: entrypoints only; the work is in the modules beside this one."""

from __future__ import annotations

from nameko.dependency_providers import Config
from nameko.timer import timer

from services.common.config import configured
from services.common.database import Database, OutboxRelay
from services.common.db import utcnow
from services.common.envelope import load_event
from services.common.errors import validated
from services.common.health import HealthServer
from services.common.rpc import rpc
from services.common.subscribe import subscribe
from services.common.tracing import LogContext
from services.surveys import (
    answers,
    campaigns,
    issuing,
    redaction,
    reminders,
    settings,
    statistics,
    templates,
    views,
    voiding,
)
from services.surveys.models import Base, DeadLetter, Inbox, Outbox
from services.surveys.schemas import (
    AnswerSchema,
    CampaignCreateSchema,
    SettingsSchema,
    StatisticsQuerySchema,
    TemplateCreateSchema,
)

SWEEP_SECONDS = 15  # due links, reminders, and the outbox link scrub


class SurveysService:
    name = "surveys"
    log_context = LogContext()

    db = Database(Base, (Outbox, Inbox, DeadLetter))
    relay = OutboxRelay()
    health = HealthServer()
    config = Config()

    @property
    def ttl_days(self) -> int:
        return int(configured(self.config, "SURVEY_TTL_DAYS"))

    @rpc
    def survey_page(self, token: str) -> dict:
        with self.db.read() as session:
            return answers.page_view(session, token, utcnow())

    @rpc
    def answer(self, token: str, payload: dict, fingerprint: str | None = None, respondent: dict | None = None) -> dict:
        """By link. ``respondent`` is the gateway's word on who answers (see answers.Respondent); none: unverified."""
        data = validated(AnswerSchema(), payload)
        with self.db.transaction() as session:
            return answers.answer(session, self.db.emit, token, data, utcnow(), fingerprint, respondent)

    @rpc
    def survey_household(self, token: str) -> dict:
        """The estate and household a link's survey asks (the gateway checks the signed-in phone against it)."""
        with self.db.read() as session:
            return answers.household_of(session, token)

    @rpc
    def resident_survey(self, tenant: str, case_id: str) -> dict:
        """The resident pages' view of the case's latest survey: no token, ever."""
        with self.db.read() as session:
            return answers.resident_view(session, tenant, case_id, utcnow())

    @rpc
    def answer_for_case(
        self, tenant: str, case_id: str, payload: dict, fingerprint: str | None = None, respondent: dict | None = None
    ) -> dict:
        """A signed-in resident answers the case's latest survey: the link's rules, and only their own."""
        data = validated(AnswerSchema(), payload)
        with self.db.transaction() as session:
            return answers.answer_for_case(
                session, self.db.emit, tenant, case_id, data, utcnow(), fingerprint, respondent
            )

    @rpc
    def surveys_for_case(self, tenant: str, case_id: str) -> list[dict]:
        with self.db.read() as session:
            return views.for_case(session, tenant, case_id, utcnow())

    @rpc
    def list_templates(self, tenant: str) -> list[dict]:
        with self.db.read() as session:
            return templates.history(session, tenant)

    @rpc
    def save_template(self, tenant: str, payload: dict) -> dict:
        data = validated(TemplateCreateSchema(), payload)
        with self.db.transaction() as session:
            return templates.save(session, tenant, data)

    @rpc
    def get_settings(self, tenant: str) -> dict:
        with self.db.read() as session:
            return settings.view(session, tenant, self.ttl_days)

    @rpc
    def save_settings(self, tenant: str, payload: dict) -> dict:
        data = validated(SettingsSchema(), payload)
        with self.db.transaction() as session:
            return settings.save(session, tenant, data, utcnow(), self.ttl_days)

    @rpc
    def tenant_statistics(self, tenant: str, params: dict) -> list[dict]:
        query = validated(StatisticsQuerySchema(), params)
        with self.db.read() as session:
            return statistics.for_tenant(session, tenant, query)

    @rpc
    def league(self, params: dict) -> dict:
        query = validated(StatisticsQuerySchema(), params)
        with self.db.read() as session:
            return statistics.league(session, query)

    @rpc
    def create_campaign(self, tenant: str, payload: dict) -> dict:
        data = validated(CampaignCreateSchema(), payload)
        base_url = self.config["PUBLIC_BASE_URL"]
        with self.db.transaction() as session:
            return campaigns.create(session, self.db.emit, tenant, data, base_url, utcnow(), self.ttl_days)

    @rpc
    def campaign(self, tenant: str, campaign_id: str) -> dict:
        with self.db.read() as session:
            return campaigns.progress(session, tenant, campaign_id, utcnow())

    @rpc
    def list_campaigns(self, tenant: str) -> list[dict]:
        with self.db.read() as session:
            return campaigns.listing(session, tenant, utcnow())

    @subscribe("requests", "case.closed")
    def on_case_closed(self, body: dict) -> None:
        event = load_event(body)
        with self.db.inbox(event, "on_case_closed") as session:
            if session is not None:
                issuing.issue(session, self.db.emit, event, self.config["PUBLIC_BASE_URL"], utcnow(), self.ttl_days)

    @subscribe("requests", "case.reopened")
    def on_case_reopened(self, body: dict) -> None:
        event = load_event(body)
        with self.db.inbox(event, "on_case_reopened") as session:
            if session is not None:
                data, reopened_at = event["data"], voiding.reopen_time(event)
                voiding.on_case_reopened(
                    session, self.db.emit, event["tenant"], data["case_id"], reopened_at, utcnow(),
                    data.get("reopen_count"),
                )  # fmt: skip

    @timer(interval=SWEEP_SECONDS)
    def sweep(self) -> None:
        """Links whose delay ended, reminders due, sent links scrubbed from the outbox."""
        base_url = self.config["PUBLIC_BASE_URL"]
        with self.db.transaction() as session:
            issuing.send_due_links(session, self.db.emit, base_url, utcnow())
        with self.db.transaction() as session:
            reminders.send_due_reminders(session, self.db.emit, base_url, utcnow())
        with self.db.transaction() as session:
            redaction.scrub_sent_links(session)
