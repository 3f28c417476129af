"""The requests service: entrypoints only; the work is in the domain modules beside it."""

from __future__ import annotations

from datetime import timedelta

from nameko.dependency_providers import Config
from nameko.timer import timer

from services.common.database import Database, OutboxRelay
from services.common.db import utcnow
from services.common.envelope import load_event
from services.common.errors import validated
from services.common.fields import parse_utc
from services.common.health import HealthServer
from services.common.pages import PageQuerySchema
from services.common.rpc import rpc
from services.common.subscribe import subscribe
from services.common.tracing import LogContext
from services.requests import (
    audit,
    board,
    breaches,
    cases,
    categories,
    comments,
    community,
    incidents,
    proposals,
    ratings,
    residents,
    search,
    statistics,
)
from services.requests import photos as case_photos
from services.requests.models import Base, DeadLetter, Inbox, Outbox
from services.requests.schemas import (
    BoardQuerySchema,
    CaseCountQuerySchema,
    CaseEditSchema,
    CaseListQuerySchema,
    CaseStatisticsQuerySchema,
    CategoryConfigSchema,
    CommentCreateSchema,
    CommentQuerySchema,
    EstateCreateSchema,
    IncidentCreateSchema,
    IncidentListQuerySchema,
    IncidentMergeSchema,
    IncidentResolveSchema,
    IncidentUpdateCreateSchema,
    InstructionCreateSchema,
    PhotoListSchema,
    ProposalCreateSchema,
    ProposalListQuerySchema,
    TransitionSchema,
    VoteCreateSchema,
    load_case,
)

#: Seconds between SLA breach scans and between proposal-window checks (every instance runs
#: them; conditional updates make each effect happen once).
SLA_SCAN_SECONDS = 60
PROPOSAL_CLOSE_SECONDS = 60


class RequestsService:
    name = "requests"
    log_context = LogContext()

    db = Database(Base, (Outbox, Inbox, DeadLetter))
    relay = OutboxRelay()
    health = HealthServer()
    config = Config()

    # --- estates and categories -----------------------------------------------------------

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
    def list_categories(self, tenant: str) -> list[dict]:
        with self.db.read() as session:
            return categories.list_categories(session, tenant)

    @rpc
    def configure_category(self, tenant: str, payload: dict) -> dict:
        data = validated(CategoryConfigSchema(), payload)
        with self.db.transaction() as session:
            return categories.configure(session, tenant, data["code"], data)

    # --- cases ----------------------------------------------------------------------------

    @rpc
    def submit_case(self, tenant: str, payload: dict, actor: str, photos: list[dict] | None = None) -> dict:
        """``photos``: what the gateway's ``store_photos`` returned, recorded with the case in one transaction."""
        with self.db.read() as session:
            codes = categories.active_codes(session, tenant)
        data = load_case(payload, codes)
        records = validated(PhotoListSchema(), {"photos": photos})["photos"] if photos else None
        with self.db.transaction() as session:
            return cases.submit(session, self.db.emit, tenant, data, actor, photos=records)

    @rpc
    def get_case(self, tenant: str, case_id: str) -> dict:
        with self.db.read() as session:
            return cases.to_dict(cases.case_of(session, tenant, case_id))

    @rpc
    def edit_case(self, tenant: str, case_id: str, payload: dict, actor: str) -> dict:
        data = validated(CaseEditSchema(), payload)
        with self.db.transaction() as session:
            return cases.edit(session, tenant, case_id, data, actor)

    @rpc
    def list_cases(self, tenant: str, params: dict, brief: bool = False) -> dict:
        """``brief``: the cases without history, escalations and photo count (the workbench's queue)."""
        query = validated(CaseListQuerySchema(), params)
        with self.db.read() as session:
            return search.list_cases(session, [tenant], query, utcnow(), brief=brief)

    @rpc
    def count_cases(self, tenant: str, params: dict) -> dict:
        query = validated(CaseCountQuerySchema(), params)
        with self.db.read() as session:
            return search.counts(session, [tenant], query, utcnow())

    @rpc
    def case_statistics(self, tenant: str, params: dict) -> list[dict]:
        """Cases, resolved, on time and reopened per group of the tenant's own cases."""
        query = validated(CaseStatisticsQuerySchema(), params)
        with self.db.read() as session:
            return statistics.for_tenant(session, tenant, query)

    @rpc
    def transition(self, tenant: str, case_id: str, payload: dict, actor: str) -> dict:
        data = validated(TransitionSchema(), payload)
        with self.db.transaction() as session:
            return cases.transition(
                session, self.db.emit, tenant, case_id, data["action"], actor,
                note=data["note"], assignee=data["assignee"], assignee_kind=data["assignee_kind"],
                source=data["source"] or "api", seen_updated_at=data["if_updated_at"],
            )  # fmt: skip

    @rpc
    def case_audit(self, tenant: str, case_id: str) -> list[dict]:
        with self.db.read() as session:
            return audit.trail(session, cases.case_of(session, tenant, case_id).id)

    @rpc
    def add_comment(self, tenant: str, case_id: str, payload: dict, actor: str) -> dict:
        data = validated(CommentCreateSchema(), payload)
        with self.db.transaction() as session:
            return comments.add(session, tenant, case_id, data, actor, utcnow())

    @rpc
    def list_comments(self, tenant: str, case_id: str, params: dict) -> list[dict]:
        query = validated(CommentQuerySchema(), params)
        with self.db.read() as session:
            return comments.list_comments(session, [tenant], case_id, query["visibility"])

    # --- the resident pages: no tenant, the estate id or the signed-in phone is the key -----

    @rpc
    def estate_public(self, estate_id: str) -> dict:
        """{id, name, address, tenant} of an estate by its id alone (what its QR code opens)."""
        with self.db.read() as session:
            return residents.estate_public(session, estate_id)

    @rpc
    def reporter_cases(self, phone: str, params: dict) -> dict:
        """The cases this (verified) phone reported, with every company, newest first."""
        query = validated(PageQuerySchema(), params)
        with self.db.read() as session:
            return residents.reporter_cases(session, phone, query, utcnow())

    @rpc
    def reporter_case(self, phone: str, case_id: str) -> dict:
        """One case of this phone with its public comments; another phone's case is not found."""
        with self.db.read() as session:
            return residents.reporter_case(session, phone, case_id, utcnow())

    # --- photos (the bytes are in the gateway's photo storage; here their records) ----------

    @rpc
    def attach_photos(self, tenant: str, case_id: str, photos: list[dict], actor: str) -> list[dict]:
        """Record stored photos on a case: 422 for more than 3 at once, 409 beyond 3 in all."""
        records = validated(PhotoListSchema(), {"photos": photos})["photos"]
        with self.db.transaction() as session:
            case = cases.case_of(session, tenant, case_id, lock=True)
            return case_photos.attach(session, case, records, actor)

    @rpc
    def list_photos(self, tenant: str, case_id: str) -> list[dict]:
        with self.db.read() as session:
            return [case_photos.to_dict(photo) for photo in cases.case_of(session, tenant, case_id).photos]

    @rpc
    def photo_of(self, tenant: str, case_id: str, photo_id: str) -> dict:
        """One photo with its storage key (for the gateway to fetch the bytes)."""
        with self.db.read() as session:
            return case_photos.stored(case_photos.photo_of(cases.case_of(session, tenant, case_id), photo_id))

    @rpc
    def publish_photo(self, tenant: str, case_id: str, photo_id: str, actor: str) -> dict:
        with self.db.transaction() as session:
            case = cases.case_of(session, tenant, case_id, lock=True)
            return case_photos.set_published(session, case, photo_id, True, actor)

    @rpc
    def unpublish_photo(self, tenant: str, case_id: str, photo_id: str, actor: str) -> dict:
        with self.db.transaction() as session:
            case = cases.case_of(session, tenant, case_id, lock=True)
            return case_photos.set_published(session, case, photo_id, False, actor)

    @rpc
    def published_photo(self, photo_id: str) -> dict:
        """A published photo of any tenant (the public ``/p/photos/<photo_id>``); NotFound for any other."""
        with self.db.read() as session:
            return case_photos.published(session, photo_id)

    # --- the community party branch supervisor (read-only over the community's tenants) ---

    @rpc
    def list_community_cases(self, tenants: list[str], params: dict) -> dict:
        query = validated(CaseListQuerySchema(), params)
        with self.db.read() as session:
            return search.list_cases(session, tenants, query, utcnow())

    @rpc
    def get_community_case(self, tenants: list[str], case_id: str) -> dict:
        with self.db.read() as session:
            case = cases.to_dict(cases.case_of(session, tenants, case_id))
            return case | {"comments": comments.list_comments(session, tenants, case_id, None)}

    @rpc
    def add_instruction(self, tenants: list[str], case_id: str, payload: dict, actor: str) -> dict:
        data = validated(InstructionCreateSchema(), payload)
        with self.db.transaction() as session:
            return comments.instruct(session, tenants, case_id, data, actor, utcnow())

    # --- the public board -----------------------------------------------------------------

    @rpc
    def estate_board(self, tenant: str | None, estate_id: str, params: dict) -> dict:
        query = validated(BoardQuerySchema(), params)
        with self.db.read() as session:
            return board.board(session, estate_id, query, tenant)

    # --- incidents ------------------------------------------------------------------------

    @rpc
    def declare_incident(self, tenant: str, payload: dict, actor: str) -> dict:
        data = validated(IncidentCreateSchema(), payload)
        with self.db.transaction() as session:
            return incidents.declare(session, self.db.emit, tenant, data, actor, utcnow())

    @rpc
    def list_incidents(self, tenant: str, params: dict) -> dict:
        query = validated(IncidentListQuerySchema(), params)
        with self.db.read() as session:
            return incidents.list_incidents(session, tenant, query)

    @rpc
    def get_incident(self, tenant: str, incident_id: str) -> dict:
        with self.db.read() as session:
            return incidents.to_dict(session, incidents.incident_of(session, tenant, incident_id))

    @rpc
    def update_incident(self, tenant: str, incident_id: str, payload: dict, actor: str) -> dict:
        data = validated(IncidentUpdateCreateSchema(), payload)
        with self.db.transaction() as session:
            return incidents.add_update(session, self.db.emit, tenant, incident_id, data, actor, utcnow())

    @rpc
    def merge_into_incident(self, tenant: str, incident_id: str, payload: dict, actor: str) -> dict:
        data = validated(IncidentMergeSchema(), payload)
        with self.db.transaction() as session:
            return incidents.merge(session, self.db.emit, tenant, incident_id, data["case_ids"], actor)

    @rpc
    def resolve_incident(self, tenant: str, incident_id: str, payload: dict, actor: str) -> dict:
        data = validated(IncidentResolveSchema(), payload)
        with self.db.transaction() as session:
            return incidents.resolve(session, self.db.emit, tenant, incident_id, data, actor, utcnow())

    # --- proposals ------------------------------------------------------------------------

    @rpc
    def create_proposal(self, tenant: str, payload: dict, actor: str) -> dict:
        data = validated(ProposalCreateSchema(), payload)
        with self.db.transaction() as session:
            return proposals.create(session, tenant, data, actor, utcnow())

    @rpc
    def list_proposals(self, tenant: str, params: dict) -> dict:
        query = validated(ProposalListQuerySchema(), params)
        with self.db.read() as session:
            return proposals.list_proposals(session, tenant, query)

    @rpc
    def get_proposal(self, tenant: str, proposal_id: str) -> dict:
        with self.db.read() as session:
            return proposals.to_dict(session, proposals.proposal_of(session, tenant, proposal_id))

    @rpc
    def household_votes(self, tenant: str, proposal_id: str, households: list[str]) -> dict[str, str]:
        with self.db.read() as session:
            return proposals.household_votes(session, tenant, proposal_id, [str(h) for h in households][:50])

    @rpc
    def vote(self, tenant: str, proposal_id: str, payload: dict, actor: str) -> dict:
        data = validated(VoteCreateSchema(), payload)
        with self.db.transaction() as session:
            return proposals.vote(session, tenant, proposal_id, data, actor, utcnow())

    # --- the party branch's view across companies (league, dashboard) ----------------------

    @rpc
    def community_league(self, tenants: list[str], days: int = 90) -> dict:
        with self.db.read() as session:
            return community.league(session, tenants, utcnow() - timedelta(days=days))

    @rpc
    def community_dashboard(self, tenants: list[str]) -> dict:
        with self.db.read() as session:
            return community.dashboard(session, tenants, utcnow())

    # --- timers ---------------------------------------------------------------------------

    @timer(interval=SLA_SCAN_SECONDS)
    def scan_sla_breaches(self) -> None:
        breaches.scan(self.db, utcnow())

    @timer(interval=PROPOSAL_CLOSE_SECONDS)
    def close_proposals(self) -> None:
        with self.db.transaction() as session:
            proposals.close_due(session, self.db.emit, utcnow())

    # --- events ---------------------------------------------------------------------------

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
                cases.low_score(
                    session, self.db.emit, event["tenant"], event["data"]["case_id"], event["data"]["score"]
                )

    @subscribe("surveys", "survey.answered")
    def on_survey_answered(self, body: dict) -> None:
        event = load_event(body)
        with self.db.inbox(event, "on_survey_answered") as session:
            if session is not None:
                data = event["data"]
                answered_at = parse_utc(data.get("answered_at"))
                ratings.record(
                    session, event["tenant"], data["case_id"], data["survey_id"], data["score"],
                    data.get("verified") is True, answered_at,
                )  # fmt: skip

    @subscribe("surveys", "survey.answer_voided")
    def on_survey_answer_voided(self, body: dict) -> None:
        """The surveys service voided an answer (the case was reopened before it came): take its rating back."""
        event = load_event(body)
        with self.db.inbox(event, "on_survey_answer_voided") as session:
            if session is not None:
                data = event["data"]
                ratings.void(session, event["tenant"], data["case_id"], data["survey_id"])
