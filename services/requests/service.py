"""The requests service: entrypoints only; the work is in :mod:`services.requests.cases`."""

from __future__ import annotations

from nameko.rpc import rpc

from services.common.database import Database, OutboxRelay
from services.common.envelope import load_event
from services.common.errors import validated
from services.common.health import HealthServer
from services.common.subscribe import subscribe
from services.common.tracing import LogContext
from services.requests import cases
from services.requests.models import Base, DeadLetter, Inbox, Outbox
from services.requests.schemas import (
    CaseCreateSchema,
    CaseListQuerySchema,
    EstateCreateSchema,
    TransitionSchema,
)


class RequestsService:
    name = "requests"
    log_context = LogContext()

    db = Database(Base, (Outbox, Inbox, DeadLetter))
    relay = OutboxRelay()
    health = HealthServer()

    @rpc
    def create_estate(self, tenant: str, payload: dict) -> dict:
        data = validated(EstateCreateSchema(), payload)
        with self.db.transaction() as session:
            return cases.create_estate(session, tenant, data)

    @rpc
    def list_estates(self, tenant: str) -> list[dict]:
        with self.db.read() as session:
            return cases.list_estates(session, tenant)

    @rpc
    def submit_case(self, tenant: str, payload: dict, actor: str) -> dict:
        data = validated(CaseCreateSchema(), payload)
        with self.db.transaction() as session:
            return cases.submit(session, self.db.emit, tenant, data, actor)

    @rpc
    def get_case(self, tenant: str, case_id: str) -> dict:
        with self.db.read() as session:
            return cases.to_dict(cases.case_of(session, tenant, case_id))

    @rpc
    def list_cases(self, tenant: str, params: dict) -> dict:
        query = validated(CaseListQuerySchema(), params)
        with self.db.read() as session:
            return cases.list_cases(session, tenant, query)

    @rpc
    def transition(self, tenant: str, case_id: str, payload: dict, actor: str) -> dict:
        data = validated(TransitionSchema(), payload)
        with self.db.transaction() as session:
            return cases.transition(
                session,
                self.db.emit,
                tenant,
                case_id,
                data["action"],
                actor,
                note=data["note"],
                assignee=data["assignee"],
            )

    @subscribe("volunteers", "visit.completed")
    def on_visit_completed(self, body: dict) -> None:
        event = load_event(body)
        if event["data"].get("outcome") != "unsatisfied":
            return
        with self.db.inbox(event, "on_visit_completed") as session:
            if session is not None:
                reason = "回访不满意: " + (event["data"].get("notes") or "")
                cases.reopen_on_feedback(
                    session, self.db.emit, event["tenant"], event["data"]["case_id"], "visit", reason.strip()
                )

    @subscribe("surveys", "survey.low_score")
    def on_survey_low_score(self, body: dict) -> None:
        event = load_event(body)
        with self.db.inbox(event, "on_survey_low_score") as session:
            if session is not None:
                reason = f"满意度低分 {event['data']['score']} 分"
                cases.reopen_on_feedback(
                    session, self.db.emit, event["tenant"], event["data"]["case_id"], "survey", reason
                )

    @subscribe("surveys", "survey.answered")
    def on_survey_answered(self, body: dict) -> None:
        event = load_event(body)
        with self.db.inbox(event, "on_survey_answered") as session:
            if session is not None:
                cases.record_rating(session, event["tenant"], event["data"]["case_id"], event["data"]["score"])
