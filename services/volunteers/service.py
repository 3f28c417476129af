"""The volunteers service: entrypoints only; the work is in the domain modules beside it."""

from __future__ import annotations

from collections.abc import Callable

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
from services.volunteers import activities, calendar, hours, personal, registry, signups, teams, visits
from services.volunteers.models import Base, DeadLetter, Inbox, Outbox
from services.volunteers.schemas import (
    ActivityCancelSchema,
    ActivityCreateSchema,
    AttendanceSchema,
    CalendarQuerySchema,
    HoursCorrectionSchema,
    HoursQuerySchema,
    HoursTotalsQuerySchema,
    OwnVisitCompleteSchema,
    RankingQuerySchema,
    ResidentSignupCreateSchema,
    SeriesCreateSchema,
    ShiftSignupCreateSchema,
    TeamCreateSchema,
    TeamMemberSchema,
    TeamUpdateSchema,
    VisitCompleteSchema,
    VisitDeclineSchema,
    VolunteerCreateSchema,
    VolunteerUpdateSchema,
)

#: Seconds between overdue sweeps and between recurring-occurrence runs (every instance runs
#: them; conditional updates make each effect happen once).
OVERDUE_SWEEP_SECONDS = 60
RECURRENCE_SECONDS = 300


class VolunteersService:
    name = "volunteers"
    log_context = LogContext()

    db = Database(Base, (Outbox, Inbox, DeadLetter))
    relay = OutboxRelay()
    health = HealthServer()
    config = Config()

    def _exists(self, find: Callable[..., object], tenant: str, *ids: str) -> None:
        """Another tenant's (or no) id is a 404 before the body is even read: ids are checked first."""
        with self.db.read() as session:
            find(session, tenant, *ids)

    # --- registry and teams ---------------------------------------------------------------

    @rpc
    def register_volunteer(self, tenant: str, payload: dict) -> dict:
        data = validated(VolunteerCreateSchema(), payload)
        with self.db.transaction() as session:
            return registry.register(session, tenant, data)

    @rpc
    def list_volunteers(self, tenant: str) -> list[dict]:
        with self.db.read() as session:
            return registry.list_volunteers(session, tenant)

    @rpc
    def get_volunteer(self, tenant: str, volunteer_id: str) -> dict:
        with self.db.read() as session:
            return registry.get(session, tenant, volunteer_id)

    @rpc
    def update_volunteer(self, tenant: str, volunteer_id: str, payload: dict) -> dict:
        self._exists(registry.find, tenant, volunteer_id)
        data = validated(VolunteerUpdateSchema(), payload)
        with self.db.transaction() as session:
            return registry.update(session, tenant, volunteer_id, data)

    @rpc
    def create_team(self, tenant: str, payload: dict) -> dict:
        data = validated(TeamCreateSchema(), payload)
        with self.db.transaction() as session:
            return teams.create(session, tenant, data)

    @rpc
    def list_teams(self, tenant: str) -> list[dict]:
        with self.db.read() as session:
            return teams.list_teams(session, tenant)

    @rpc
    def get_team(self, tenant: str, team_id: str) -> dict:
        with self.db.read() as session:
            return teams.get(session, tenant, team_id)

    @rpc
    def update_team(self, tenant: str, team_id: str, payload: dict) -> dict:
        self._exists(teams.get, tenant, team_id)
        data = validated(TeamUpdateSchema(), payload)
        with self.db.transaction() as session:
            return teams.update(session, tenant, team_id, data)

    @rpc
    def add_team_member(self, tenant: str, team_id: str, payload: dict) -> dict:
        self._exists(teams.get, tenant, team_id)
        data = validated(TeamMemberSchema(), payload)
        with self.db.transaction() as session:
            return teams.add_member(session, tenant, team_id, data["volunteer_id"])

    @rpc
    def remove_team_member(self, tenant: str, team_id: str, volunteer_id: str) -> dict:
        with self.db.transaction() as session:
            return teams.remove_member(session, tenant, team_id, volunteer_id)

    # --- visits ---------------------------------------------------------------------------

    @rpc
    def complete_visit(self, tenant: str, visit_id: str, payload: dict) -> dict:
        self._exists(visits.find, tenant, visit_id)
        data = validated(VisitCompleteSchema(), payload)
        with self.db.transaction() as session:
            return visits.complete(
                session, self.db.emit, tenant, visit_id, data["outcome"], data["notes"], data["hours"]
            )

    @rpc
    def decline_visit(self, tenant: str, visit_id: str, payload: dict) -> dict:
        self._exists(visits.find, tenant, visit_id)
        data = validated(VisitDeclineSchema(), payload)
        with self.db.transaction() as session:
            return visits.decline(session, self.db.emit, tenant, visit_id, data["volunteer_id"], reason=data["reason"])

    @rpc
    def visits_for_case(self, tenant: str, case_id: str) -> list[dict]:
        with self.db.read() as session:
            return visits.for_case(session, tenant, case_id)

    @rpc
    def volunteer_schedule(self, tenant: str, volunteer_id: str) -> list[dict]:
        with self.db.read() as session:
            return calendar.schedule(session, tenant, volunteer_id, utcnow())

    @timer(interval=OVERDUE_SWEEP_SECONDS)
    def sweep_overdue_visits(self) -> None:
        visits.sweep_overdue(self.db, utcnow(), int(configured(self.config, "VISIT_DUE_DAYS")))

    @subscribe("requests", "case.closed")
    def on_case_closed(self, body: dict) -> None:
        event = load_event(body)
        with self.db.inbox(event, "on_case_closed") as session:
            if session is not None:
                due_days = int(configured(self.config, "VISIT_DUE_DAYS"))
                visits.schedule_follow_up(session, self.db.emit, event, due_days)

    @subscribe("requests", "case.reopened")
    def on_case_reopened(self, body: dict) -> None:
        event = load_event(body)
        with self.db.inbox(event, "on_case_reopened") as session:
            if session is not None:
                visits.cancel_pending(session, event["tenant"], event["data"]["case_id"], "case reopened")

    # --- the volunteer's own pages (the gateway's /v, for a signed-in phone) -----------------

    @rpc
    def volunteer_roles(self, phone: str) -> list[dict]:
        """Every company ``phone`` volunteers for: [{tenant, volunteer_id, name, active}]."""
        with self.db.read() as session:
            return personal.roles(session, phone)

    @rpc
    def my_visits(self, tenant: str, volunteer_id: str) -> list[dict]:
        with self.db.read() as session:
            registry.find(session, tenant, volunteer_id)
            return personal.visits_of(session, tenant, volunteer_id, utcnow())

    @rpc
    def my_visit(self, tenant: str, volunteer_id: str, visit_id: str) -> dict:
        """The visit if it is this volunteer's, else 404 (another volunteer's or company's)."""
        with self.db.read() as session:
            return personal.view(personal.visit_of(session, tenant, volunteer_id, visit_id), utcnow())

    @rpc
    def accept_visit(self, tenant: str, visit_id: str, volunteer_id: str) -> dict:
        """404 unless the volunteer's; 409 once the visit is no longer open or has moved on."""
        self._exists(personal.visit_of, tenant, volunteer_id, visit_id)
        with self.db.transaction() as session:
            now = utcnow()
            return personal.view(visits.accept(session, tenant, visit_id, volunteer_id, now), now)

    @rpc
    def complete_my_visit(self, tenant: str, volunteer_id: str, visit_id: str, payload: dict) -> dict:
        """The volunteer records the outcome of their own open visit (404 / 409 as accept_visit)."""
        self._exists(personal.visit_of, tenant, volunteer_id, visit_id)
        data = validated(OwnVisitCompleteSchema(), payload)
        with self.db.transaction() as session:
            visits.complete(
                session, self.db.emit, tenant, visit_id, data["outcome"], data["notes"], volunteer_id=volunteer_id
            )
            return personal.view(visits.find(session, tenant, visit_id), utcnow())

    # --- service hours --------------------------------------------------------------------

    @rpc
    def hours_ledger(self, tenant: str, params: dict) -> list[dict]:
        query = validated(HoursQuerySchema(), params)
        with self.db.read() as session:
            return hours.ledger(session, tenant, query)

    @rpc
    def hours_totals(self, tenant: str, params: dict) -> list[dict]:
        query = validated(HoursTotalsQuerySchema(), params)
        with self.db.read() as session:
            return hours.period_totals(session, tenant, query)

    @rpc
    def hours_ranking(self, tenant: str, params: dict) -> list[dict]:
        query = validated(RankingQuerySchema(), params)
        with self.db.read() as session:
            return hours.publishable_ranking(session, tenant, query)

    @rpc
    def correct_hours(self, tenant: str, payload: dict) -> dict:
        data = validated(HoursCorrectionSchema(), payload)
        with self.db.transaction() as session:
            return hours.correct(session, tenant, data)

    # --- activities -----------------------------------------------------------------------

    @rpc
    def create_activity(self, tenant: str, payload: dict) -> dict:
        data = validated(ActivityCreateSchema(), payload)
        with self.db.transaction() as session:
            return activities.create(session, self.db.emit, tenant, data)

    @rpc
    def create_series(self, tenant: str, payload: dict) -> dict:
        data = validated(SeriesCreateSchema(), payload)
        with self.db.transaction() as session:
            return activities.create_series(session, self.db.emit, tenant, data, utcnow())

    @rpc
    def list_activities(self, tenant: str) -> list[dict]:
        with self.db.read() as session:
            return activities.list_activities(session, tenant)

    @rpc
    def get_activity(self, tenant: str, activity_id: str) -> dict:
        with self.db.read() as session:
            return activities.get(session, tenant, activity_id)

    @rpc
    def publish_activity(self, tenant: str, activity_id: str) -> dict:
        with self.db.transaction() as session:
            return activities.publish(session, self.db.emit, tenant, activity_id)

    @rpc
    def cancel_activity(self, tenant: str, activity_id: str, payload: dict) -> dict:
        self._exists(activities.find, tenant, activity_id)
        data = validated(ActivityCancelSchema(), payload)
        with self.db.transaction() as session:
            return activities.cancel(session, self.db.emit, tenant, activity_id, data["reason"])

    @timer(interval=RECURRENCE_SECONDS)
    def generate_occurrences(self) -> None:
        activities.generate_due(self.db, utcnow())

    @rpc
    def sign_up_resident(self, tenant: str, activity_id: str, payload: dict) -> dict:
        self._exists(activities.find, tenant, activity_id)
        data = validated(ResidentSignupCreateSchema(), payload)
        with self.db.transaction() as session:
            return signups.sign_up_resident(session, tenant, activity_id, data)

    @rpc
    def cancel_resident_signup(self, tenant: str, activity_id: str, signup_id: str) -> dict:
        with self.db.transaction() as session:
            return signups.cancel_resident(session, self.db.emit, tenant, activity_id, signup_id)

    @rpc
    def resident_signups(self, tenant: str, activity_id: str) -> list[dict]:
        with self.db.read() as session:
            return signups.resident_signups(session, tenant, activity_id)

    @rpc
    def household_signups(self, tenant: str, household: str, activity_ids: list[str]) -> list[dict]:
        """A household's live sign-ups to these activities with its waiting-list place (the resident pages)."""
        with self.db.read() as session:
            return signups.household_signups(session, tenant, household, activity_ids)

    @rpc
    def sign_up_volunteer(self, tenant: str, activity_id: str, shift_id: str, payload: dict) -> dict:
        self._exists(signups.find_shift, tenant, activity_id, shift_id)
        data = validated(ShiftSignupCreateSchema(), payload)
        with self.db.transaction() as session:
            return signups.sign_up_volunteer(session, tenant, activity_id, shift_id, data["volunteer_id"])

    @rpc
    def cancel_shift_signup(self, tenant: str, activity_id: str, signup_id: str) -> dict:
        with self.db.transaction() as session:
            return signups.cancel_volunteer(session, tenant, activity_id, signup_id)

    @rpc
    def record_attendance(self, tenant: str, activity_id: str, payload: dict) -> dict:
        self._exists(activities.find, tenant, activity_id)
        data = validated(AttendanceSchema(), payload)
        with self.db.transaction() as session:
            return signups.record_attendance(session, tenant, activity_id, data)

    @rpc
    def estate_calendar(self, tenant: str | None, estate_id: str, params: dict) -> dict:
        """``tenant`` None: the public page (estate ids are unique across tenants)."""
        query = validated(CalendarQuerySchema(), {**params, "estate_id": estate_id})
        with self.db.read() as session:
            return calendar.week(session, estate_id, query["week_of"], utcnow(), tenant)
