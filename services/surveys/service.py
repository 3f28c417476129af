"""The surveys service: entrypoints only; the work is in :mod:`services.surveys.surveys`."""

from __future__ import annotations

from nameko.dependency_providers import Config
from nameko.rpc import rpc

from services.common.database import Database, OutboxRelay
from services.common.envelope import load_event
from services.common.errors import validated
from services.common.health import HealthServer
from services.common.subscribe import subscribe
from services.common.tracing import LogContext
from services.surveys import surveys
from services.surveys.models import Base, DeadLetter, Inbox, Outbox
from services.surveys.schemas import AnswerSchema


class SurveysService:
    name = "surveys"
    log_context = LogContext()

    db = Database(Base, (Outbox, Inbox, DeadLetter))
    relay = OutboxRelay()
    health = HealthServer()
    config = Config()

    @rpc
    def survey_page(self, token: str) -> dict:
        with self.db.read() as session:
            return surveys.page_view(session, token)

    @rpc
    def answer(self, token: str, payload: dict) -> dict:
        data = validated(AnswerSchema(), payload)
        with self.db.transaction() as session:
            return surveys.answer(session, self.db.emit, token, data)

    @rpc
    def surveys_for_case(self, tenant: str, case_id: str) -> list[dict]:
        with self.db.read() as session:
            return surveys.for_case(session, tenant, case_id)

    @subscribe("requests", "case.closed")
    def on_case_closed(self, body: dict) -> None:
        event = load_event(body)
        with self.db.inbox(event, "on_case_closed") as session:
            if session is not None:
                surveys.issue(
                    session,
                    self.db.emit,
                    event,
                    self.config["PUBLIC_BASE_URL"],
                    int(self.config.get("SURVEY_TTL_DAYS", 7)),
                )

    @subscribe("requests", "case.reopened")
    def on_case_reopened(self, body: dict) -> None:
        event = load_event(body)
        with self.db.inbox(event, "on_case_reopened") as session:
            if session is not None:
                surveys.void_unanswered(session, event["tenant"], event["data"]["case_id"])
