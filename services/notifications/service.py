"""The notifications service: tells people what happened. Entrypoints only."""

from __future__ import annotations

from datetime import timedelta

from jinja2 import UndefinedError
from marshmallow import ValidationError
from nameko.dependency_providers import Config
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.config import configured
from services.common.database import Database, OutboxRelay
from services.common.db import utcnow
from services.common.envelope import load_event
from services.common.errors import Conflict, NotFound, ValidationFailed, validated
from services.common.fields import mainland_mobile
from services.common.health import HealthServer
from services.common.ids import new_id
from services.common.pages import PageQuerySchema
from services.common.rpc import rpc
from services.common.subscribe import subscribe
from services.common.tracing import LogContext
from services.notifications import broadcasts, contacts, deliveries, imports, inbox, sign_in, triggers, webhooks
from services.notifications.deliveries import Person
from services.notifications.dispatcher import Dispatcher
from services.notifications.models import Base, DeadLetter, Delivery, Inbox, Outbox
from services.notifications.schemas import (
    BroadcastCreateSchema,
    BroadcastListQuerySchema,
    ContactCreateSchema,
    ContactImportSchema,
    NotificationCreateSchema,
    NotificationSettingsSchema,
    PreferencesSchema,
    RecipientQuerySchema,
    WebhookCreateSchema,
    WebhookSecretRotateSchema,
)
from services.notifications.settings import Settings, WebhookPolicy
from services.notifications.templates import render_for


class NotificationsService:
    name = "notifications"
    log_context = LogContext()

    db = Database(Base, (Outbox, Inbox, DeadLetter))
    relay = OutboxRelay()
    health = HealthServer()
    channels = Dispatcher()
    sign_in_codes = sign_in.SignInCodes()
    config = Config()

    @property
    def ttl_days(self) -> int:
        return int(configured(self.config, "SURVEY_TTL_DAYS"))

    # -- contacts, preferences, settings ------------------------------------------------

    @rpc
    def save_contact(self, tenant: str, payload: dict) -> dict:
        data = validated(ContactCreateSchema(), payload)
        with self.db.transaction() as session:
            contacts.save_many(session, tenant, [data])
            return contacts.view(session, contacts.by_phone(session, tenant, data["phone"]))

    @rpc
    def import_contacts(self, tenant: str, payload: dict) -> dict:
        """``{"contacts": [...]}`` or ``{"csv": "phone,name,…"}``: up to 10,000 rows, a report back."""
        if isinstance(payload, dict) and isinstance(payload.get("csv"), str) and len(payload) == 1:
            rows = imports.rows_from_csv(payload["csv"])
        else:
            rows = validated(ContactImportSchema(), payload)["contacts"]
        with self.db.transaction() as session:
            return imports.import_rows(session, tenant, rows)

    @rpc
    def set_preferences(self, tenant: str, contact_id: str, payload: dict) -> dict:
        data = validated(PreferencesSchema(), payload)
        with self.db.transaction() as session:
            contact = contacts.get(session, tenant, contact_id)
            contact.preferences = {kind: sorted(set(channels)) for kind, channels in data["preferences"].items()}
            return contacts.view(session, contact)

    @rpc
    def get_contact(self, tenant: str, contact_id: str) -> dict:
        with self.db.read() as session:
            return contacts.view(session, contacts.get(session, tenant, contact_id))

    @rpc
    def get_settings(self, tenant: str) -> dict:
        with self.db.read() as session:
            return contacts.settings_view(contacts.settings_of(session, tenant))

    @rpc
    def save_settings(self, tenant: str, payload: dict) -> dict:
        data = validated(NotificationSettingsSchema(), payload)
        quiet = data.pop("quiet_hours", None)
        if quiet:
            data |= {"quiet_start": quiet["start"], "quiet_end": quiet["end"], "timezone": quiet["timezone"]}
        with self.db.transaction() as session:
            return contacts.settings_view(contacts.save_settings(session, tenant, data))

    # -- deliveries and the inbox ---------------------------------------------------------

    @rpc
    def deliveries_for(self, tenant: str, params: dict) -> dict:
        query = validated(RecipientQuerySchema(), params)
        with self.db.read() as session:
            return deliveries.for_recipient(session, tenant, query["phone"], query["limit"], query["starting_after"])

    @rpc
    def inbox(self, tenant: str, params: dict, resident: bool = False) -> dict:
        query = validated(inbox.InboxQuerySchema(), params)
        with self.db.read() as session:
            return inbox.listing(session, tenant, query, resident)

    @rpc
    def resident_inbox(self, phone: str, params: dict) -> dict:
        """The signed-in resident's own inbox with every company, links whole (it is theirs)."""
        query = validated(inbox.InboxQuerySchema(), {**params, "phone": phone})
        with self.db.read() as session:
            return inbox.listing(session, None, query, resident=True)

    @rpc
    def mark_read(self, tenant: str, message_id: str) -> dict:
        with self.db.transaction() as session:
            return inbox.mark_read(session, tenant, message_id, utcnow())

    @rpc
    def send_sign_in_code(self, phone: str, code: str) -> dict:
        """Send a one-time sign-in code now (SIGN_IN_CHANNEL); the audit row and the answer never hold it."""
        try:
            phone = mainland_mobile(phone)
        except ValidationError as exc:
            raise ValidationFailed("not a mainland mobile number", {"phone": exc.messages}) from None
        if not (isinstance(code, str) and code.isdigit() and len(code) == 6):
            raise ValidationFailed("a sign-in code is six digits", {"code": ["six digits"]})
        with self.db.transaction() as session:
            return sign_in.send(session, self.sign_in_codes, phone, code, utcnow())

    # -- notifications and broadcasts -----------------------------------------------------

    @rpc
    def create_notification(self, tenant: str, payload: dict) -> dict:
        data = validated(NotificationCreateSchema(), payload)
        try:
            with self.db.transaction() as session:
                self._check_template(session, tenant, data["template"], data["variables"])
                broadcast, _ = self._broadcast(
                    session,
                    tenant,
                    kind=data["template"],
                    template=data["template"],
                    variables=data["variables"],
                    critical=data["severity"] == "critical",
                    topic=data.get("topic") or {},
                    key=data["idempotency_key"],
                    phones=data.get("recipients") or (),
                )
                return broadcasts.view(session, broadcast)
        except IntegrityError:  # the same key at the same moment: the other request created it
            return self._existing(tenant, data["idempotency_key"])

    @rpc
    def get_notification(self, tenant: str, notification_id: str) -> dict:
        with self.db.read() as session:
            broadcast = broadcasts.get(session, tenant, notification_id)
            shown = broadcasts.view(session, broadcast)
            rows = session.scalars(
                select(Delivery).where(Delivery.trigger_id == broadcast.id).order_by(Delivery.id).limit(100)
            )
            return shown | {"deliveries": [deliveries.delivery_view(row) for row in rows]}

    @rpc
    def create_broadcast(self, tenant: str, payload: dict, actor: str | None = None) -> dict:
        """A notice to an estate or building; ``actor`` (the key or the person) is kept with it."""
        data = validated(BroadcastCreateSchema(), payload)
        topic = {"estate_ids": [data["estate_id"]]} | ({"building": data["building"]} if data["building"] else {})
        variables = {"title": data["title"], "body": data["body"]}
        key = data["idempotency_key"] or new_id()
        try:
            with self.db.transaction() as session:
                broadcast, _ = self._broadcast(
                    session,
                    tenant,
                    kind="notice",
                    template="notice",
                    variables=variables,
                    critical=data["severity"] == "critical",
                    topic=topic,
                    key=key,
                    created_by=actor,
                )
                return broadcasts.view(session, broadcast)
        except IntegrityError:
            return self._existing(tenant, key)

    def _existing(self, tenant: str, key: str) -> dict:
        with self.db.read() as session:
            broadcast = broadcasts.by_key(session, tenant, key)
            if broadcast is None:
                raise Conflict("this idempotency key is being used right now; try again")
            return broadcasts.view(session, broadcast)

    @rpc
    def list_broadcasts(self, tenant: str, params: dict) -> dict:
        query = validated(BroadcastListQuerySchema(), params)
        with self.db.read() as session:
            rows, more = broadcasts.of_tenant(
                session, tenant, query["limit"], query["starting_after"], query["subject"]
            )
            return {"data": [broadcasts.view(session, row) for row in rows], "has_more": more}

    @rpc
    def get_broadcast(self, tenant: str, broadcast_id: str) -> dict:
        with self.db.read() as session:
            return broadcasts.view(session, broadcasts.get(session, tenant, broadcast_id))

    def _check_template(self, session: Session, tenant: str, template: str, variables: dict) -> None:
        values = contacts.sender_values(contacts.settings_of(session, tenant))
        try:
            render_for(template, "inapp", {"name": "", **variables}, values)
        except UndefinedError as exc:
            raise ValidationFailed("a template variable is missing", {"variables": [str(exc)]}) from None

    def _broadcast(self, session: Session, tenant: str, *, key: str, phones=(), **fields) -> tuple:  # noqa: ANN001
        broadcast, new = broadcasts.create(
            session, tenant=tenant, idempotency_key=key, now=utcnow(), phones=phones, **fields
        )
        if new and broadcast.total == 0 and not phones:
            raise NotFound("no household or member of this topic among your contacts")
        return broadcast, new

    # -- webhooks -------------------------------------------------------------------------

    @property
    def webhook_policy(self) -> WebhookPolicy:
        return WebhookPolicy.from_settings(Settings(self.config))

    @rpc
    def create_webhook(self, tenant: str, payload: dict) -> dict:
        data = validated(WebhookCreateSchema(), payload)
        with self.db.transaction() as session:
            subscription = webhooks.subscribe(
                session, tenant, data["url"], data["event_types"], utcnow(), self.webhook_policy
            )
            return webhooks.view(session, subscription, secret=True)

    @rpc
    def delete_webhook(self, tenant: str, subscription_id: str) -> None:
        with self.db.transaction() as session:
            webhooks.remove(session, tenant, subscription_id)

    @rpc
    def rotate_webhook_secret(self, tenant: str, subscription_id: str, payload: dict) -> dict:
        data = validated(WebhookSecretRotateSchema(), payload or {})
        hours = data["previous_valid_hours"]
        grace = timedelta(hours=self.webhook_policy.secret_grace_hours if hours is None else hours)
        with self.db.transaction() as session:
            subscription = webhooks.rotate_secret(session, tenant, subscription_id, utcnow(), grace)
            return webhooks.view(session, subscription, secret=True)

    @rpc
    def webhook_deliveries(self, tenant: str, subscription_id: str, params: dict) -> dict:
        query = validated(PageQuerySchema(), params)
        with self.db.read() as session:
            rows, more = webhooks.deliveries_of(
                session, tenant, subscription_id, query["limit"], query["starting_after"]
            )
            return {"data": [webhooks.delivery_view(row) for row in rows], "has_more": more}

    @rpc
    def list_webhooks(self, tenant: str) -> dict:
        with self.db.read() as session:
            return {"data": [webhooks.view(session, s) for s in webhooks.of_tenant(session, tenant)], "has_more": False}

    @rpc
    def get_webhook(self, tenant: str, subscription_id: str) -> dict:
        with self.db.read() as session:
            return webhooks.view(session, webhooks.get(session, tenant, subscription_id))

    @rpc
    def test_webhook(self, tenant: str, subscription_id: str) -> dict:
        with self.db.transaction() as session:
            delivery = webhooks.send_test(session, tenant, subscription_id, utcnow())
            return {"id": delivery.id, "event_id": delivery.event_id, "status": delivery.status}

    @rpc
    def enable_webhook(self, tenant: str, subscription_id: str) -> dict:
        with self.db.transaction() as session:
            return webhooks.view(session, webhooks.enable(session, tenant, subscription_id))

    # -- events ---------------------------------------------------------------------------

    def _tell(self, session: Session, event: dict, tell: triggers.Tell, critical: bool = False) -> None:
        tenant = event["tenant"]
        contacts.ensure(session, tenant, tell.phone, tell.name, tell.role)
        deliveries.queue(
            session,
            tenant=tenant,
            trigger_id=event["id"],
            kind=event["type"],
            template=tell.template,
            person=Person.of(contacts.by_phone(session, tenant, tell.phone), tell.phone, tell.name, tell.role),
            channels=self.channels.for_kind(event["type"]),
            variables=tell.variables,
            sender=deliveries.sender_for(session, tenant),
            critical=critical,
        )

    def _staff(self, session: Session, event: dict) -> list[tuple[str, str | None]]:
        """(phone, name) of the staff of the event's estate: escalations and unclaimed visits are theirs."""
        staff = contacts.staff_of(session, event["tenant"], event["data"].get("estate_id"))
        return [(contact.phone, contact.name) for contact in staff]

    def _announce(self, session: Session, event: dict, announce: triggers.Announce) -> None:
        broadcasts.create(
            session,
            tenant=event["tenant"],
            kind=event["type"],
            template=announce.template,
            variables=announce.variables,
            critical=announce.critical,
            topic={"estate_ids": list(announce.estate_ids)},
            idempotency_key=event["id"],
            now=utcnow(),
            subject=event["subject"],
        )

    def _forward(self, body: dict, handler: str) -> None:
        event = load_event(body)
        with self.db.inbox(event, handler) as session:
            if session is not None:
                webhooks.queue_event(session, event, utcnow())

    @subscribe("requests", "case.submitted")
    def on_case_submitted(self, body: dict) -> None:
        event = load_event(body)
        reporter = event["data"]["reporter"]
        tell = triggers.Tell(
            "case.submitted", reporter["phone"], reporter["name"], "resident", {"title": event["data"]["title"]}
        )
        with self.db.inbox(event, "on_case_submitted") as session:
            if session is not None:
                self._tell(session, event, tell)
                webhooks.queue_event(session, event, utcnow())

    @subscribe("requests", "case.status_changed")
    def on_case_status_changed(self, body: dict) -> None:
        self._forward(body, "on_case_status_changed")

    @subscribe("requests", "case.closed")
    def on_case_closed(self, body: dict) -> None:
        self._forward(body, "on_case_closed")

    @subscribe("surveys", "survey.answered")
    def on_survey_answered(self, body: dict) -> None:
        self._forward(body, "on_survey_answered")

    @subscribe("surveys", "survey.answer_voided")
    def on_survey_answer_voided(self, body: dict) -> None:
        """To every webhook that was sent the answer: it no longer counts."""
        self._forward(body, "on_survey_answer_voided")

    @subscribe("surveys", "survey.issued")
    def on_survey_issued(self, body: dict) -> None:
        event = load_event(body)
        tell = triggers.survey_link(event["data"], self.ttl_days)
        with self.db.inbox(event, "on_survey_issued") as session:
            if session is not None:
                self._tell(session, event, tell)

    @subscribe("surveys", "survey.reminder_due")
    def on_survey_reminder_due(self, body: dict) -> None:
        event = load_event(body)
        tell = triggers.survey_link(event["data"] | {"reminder": True}, self.ttl_days)
        with self.db.inbox(event, "on_survey_reminder_due") as session:
            if session is not None:
                self._tell(session, event, tell)

    @subscribe("volunteers", "visit.scheduled")
    def on_visit_scheduled(self, body: dict) -> None:
        event = load_event(body)
        data = event["data"]
        resident = data["resident"]
        due = data["due_at"][:10]
        visitor = f"志愿者{data['volunteer_name']}" if data.get("volunteer_name") else "物业工作人员"
        tells = [
            triggers.Tell(
                "visit.scheduled.resident",
                resident["phone"],
                resident["name"],
                "resident",
                {
                    "title": data["case_title"],
                    "visitor": visitor,
                    "due": due,
                },
            )
        ]
        if data.get("volunteer_phone"):
            tells.append(
                triggers.Tell(
                    "visit.scheduled.volunteer",
                    data["volunteer_phone"],
                    data["volunteer_name"],
                    "volunteer",
                    {
                        "title": data["case_title"],
                        "household": resident["household"],
                        "due": due,
                    },
                )
            )
        with self.db.inbox(event, "on_visit_scheduled") as session:
            if session is not None:
                for tell in tells:
                    self._tell(session, event, tell)

    @subscribe("volunteers", "visit.overdue")
    def on_visit_overdue(self, body: dict) -> None:
        event = load_event(body)
        with self.db.inbox(event, "on_visit_overdue") as session:
            if session is not None:
                for tell in triggers.visit_overdue(event["data"], self._staff(session, event)):
                    self._tell(session, event, tell)

    @subscribe("volunteers", "activity.published")
    def on_activity_published(self, body: dict) -> None:
        event = load_event(body)
        announce = triggers.activity_published(event["data"])
        with self.db.inbox(event, "on_activity_published") as session:
            if session is not None:
                self._announce(session, event, announce)

    @subscribe("volunteers", "activity.cancelled")
    def on_activity_cancelled(self, body: dict) -> None:
        event = load_event(body)
        tells = triggers.activity_cancelled(event["data"])
        with self.db.inbox(event, "on_activity_cancelled") as session:
            if session is not None:
                for tell in tells:
                    self._tell(session, event, tell)

    @subscribe("requests", "case.escalated")
    def on_case_escalated(self, body: dict) -> None:
        event = load_event(body)
        with self.db.inbox(event, "on_case_escalated") as session:
            if session is not None:
                for tell in triggers.case_escalated(event["data"], self._staff(session, event)):
                    self._tell(session, event, tell)

    @subscribe("volunteers", "activity.signup_promoted")
    def on_activity_signup_promoted(self, body: dict) -> None:
        event = load_event(body)
        tell = triggers.signup_promoted(event["data"])
        with self.db.inbox(event, "on_activity_signup_promoted") as session:
            if session is not None:
                self._tell(session, event, tell)

    @subscribe("requests", "incident.declared")
    def on_incident_declared(self, body: dict) -> None:
        event = load_event(body)
        announce = triggers.incident("incident.declared", event["data"])
        with self.db.inbox(event, "on_incident_declared") as session:
            if session is not None:
                self._announce(session, event, announce)

    @subscribe("requests", "incident.updated")
    def on_incident_updated(self, body: dict) -> None:
        event = load_event(body)
        announce = triggers.incident("incident.updated", event["data"])
        with self.db.inbox(event, "on_incident_updated") as session:
            if session is not None:
                self._announce(session, event, announce)

    @subscribe("requests", "incident.resolved")
    def on_incident_resolved(self, body: dict) -> None:
        event = load_event(body)
        announce = triggers.incident("incident.resolved", event["data"])
        with self.db.inbox(event, "on_incident_resolved") as session:
            if session is not None:
                self._announce(session, event, announce)
