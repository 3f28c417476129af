"""The volunteers service: entrypoints only; the work is in :mod:`services.volunteers.visits`."""

from __future__ import annotations

from nameko.dependency_providers import Config
from nameko.rpc import rpc

from services.common.database import Database, OutboxRelay
from services.common.envelope import load_event
from services.common.errors import validated
from services.common.health import HealthServer
from services.common.subscribe import subscribe
from services.common.tracing import LogContext
from services.volunteers import visits
from services.volunteers.models import Base, DeadLetter, Inbox, Outbox
from services.volunteers.schemas import VisitCompleteSchema, VolunteerCreateSchema


class VolunteersService:
    name = "volunteers"
    log_context = LogContext()

    db = Database(Base, (Outbox, Inbox, DeadLetter))
    relay = OutboxRelay()
    health = HealthServer()
    config = Config()

    @rpc
    def register_volunteer(self, tenant: str, payload: dict) -> dict:
        data = validated(VolunteerCreateSchema(), payload)
        with self.db.transaction() as session:
            return visits.register(session, tenant, data)

    @rpc
    def list_volunteers(self, tenant: str) -> list[dict]:
        with self.db.read() as session:
            return visits.list_volunteers(session, tenant)

    @rpc
    def complete_visit(self, tenant: str, visit_id: str, payload: dict) -> dict:
        data = validated(VisitCompleteSchema(), payload)
        with self.db.transaction() as session:
            return visits.complete(session, self.db.emit, tenant, visit_id, data["outcome"], data["notes"])

    @rpc
    def visits_for_case(self, tenant: str, case_id: str) -> list[dict]:
        with self.db.read() as session:
            return visits.for_case(session, tenant, case_id)

    @subscribe("requests", "case.closed")
    def on_case_closed(self, body: dict) -> None:
        event = load_event(body)
        with self.db.inbox(event, "on_case_closed") as session:
            if session is not None:
                due_days = int(self.config.get("VISIT_DUE_DAYS", 3))
                visits.schedule_follow_up(session, self.db.emit, event, due_days)

    @subscribe("requests", "case.reopened")
    def on_case_reopened(self, body: dict) -> None:
        event = load_event(body)
        with self.db.inbox(event, "on_case_reopened") as session:
            if session is not None:
                visits.cancel_pending(session, event["tenant"], event["data"]["case_id"], "case reopened")
