"""The notifications service: tells people what happened. Entrypoints only."""

from __future__ import annotations

from nameko.dependency_providers import Config
from nameko.rpc import rpc
from sqlalchemy import select

from services.common.database import Database, OutboxRelay
from services.common.envelope import load_event
from services.common.errors import validated
from services.common.health import HealthServer
from services.common.subscribe import subscribe
from services.common.tracing import LogContext
from services.notifications import deliveries
from services.notifications.dispatcher import Dispatcher
from services.notifications.models import Base, Contact, DeadLetter, Inbox, Outbox
from services.notifications.schemas import ContactCreateSchema, ContactSchema, RecipientQuerySchema


class NotificationsService:
    name = "notifications"
    log_context = LogContext()

    db = Database(Base, (Outbox, Inbox, DeadLetter))
    relay = OutboxRelay()
    health = HealthServer()
    channels = Dispatcher()
    config = Config()

    @property
    def ttl_days(self) -> int:
        return int(self.config.get("SURVEY_TTL_DAYS", 7))

    @rpc
    def save_contact(self, tenant: str, payload: dict) -> dict:
        data = validated(ContactCreateSchema(), payload)
        with self.db.transaction() as session:
            deliveries.upsert_contact(session, tenant, data["phone"], data["name"], data["role"])
            contact = session.scalars(
                select(Contact).where(Contact.tenant == tenant, Contact.phone == data["phone"])
            ).one()
            contact.name, contact.email, contact.role = data["name"], data["email"], data["role"]
            return ContactSchema().dump(contact)

    @rpc
    def deliveries_for(self, tenant: str, params: dict) -> dict:
        query = validated(RecipientQuerySchema(), params)
        with self.db.read() as session:
            return deliveries.for_recipient(session, tenant, query["phone"], query["limit"], query["starting_after"])

    def _queue(self, session, event: dict, template: str, phone: str, name: str | None, role: str, **variables) -> None:
        deliveries.upsert_contact(session, event["tenant"], phone, name, role)
        deliveries.queue(
            session,
            tenant=event["tenant"],
            trigger_id=event["id"],
            kind=event["type"],
            template=template,
            phone=phone,
            role=role,
            channels=self.channels,
            variables={"name": name or "", **variables},
        )

    @subscribe("requests", "case.submitted")
    def on_case_submitted(self, body: dict) -> None:
        event = load_event(body)
        reporter = event["data"]["reporter"]
        with self.db.inbox(event, "on_case_submitted") as session:
            if session is not None:
                self._queue(
                    session,
                    event,
                    "case.submitted",
                    reporter["phone"],
                    reporter["name"],
                    "resident",
                    title=event["data"]["title"],
                )

    @subscribe("surveys", "survey.issued")
    def on_survey_issued(self, body: dict) -> None:
        event = load_event(body)
        data = event["data"]
        recipient = data["recipient"]
        with self.db.inbox(event, "on_survey_issued") as session:
            if session is not None:
                self._queue(
                    session,
                    event,
                    "survey.issued",
                    recipient["phone"],
                    recipient["name"],
                    "resident",
                    title=data["case_title"],
                    link=data["link"],
                    days=self.ttl_days,
                )

    @subscribe("volunteers", "visit.scheduled")
    def on_visit_scheduled(self, body: dict) -> None:
        event = load_event(body)
        data = event["data"]
        resident = data["resident"]
        due = data["due_at"][:10]
        with self.db.inbox(event, "on_visit_scheduled") as session:
            if session is None:
                return
            visitor = f"志愿者{data['volunteer_name']}" if data.get("volunteer_name") else "物业工作人员"
            self._queue(
                session,
                event,
                "visit.scheduled.resident",
                resident["phone"],
                resident["name"],
                "resident",
                title=data["case_title"],
                visitor=visitor,
                due=due,
            )
            if data.get("volunteer_phone"):
                self._queue(
                    session,
                    event,
                    "visit.scheduled.volunteer",
                    data["volunteer_phone"],
                    data["volunteer_name"],
                    "volunteer",
                    title=data["case_title"],
                    household=resident["household"],
                    due=due,
                )
