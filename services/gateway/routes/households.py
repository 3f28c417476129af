"""The party branch's household register: import it, list it, decide residents' claims.

Supervisor keys only (see :mod:`services.gateway.authorization`), and only for the key's own
community: the estates are those of the community's companies, as the requests service
knows them; another community's claim is simply not found.
"""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from services.common.db import utcnow
from services.common.errors import validated
from services.gateway import register
from services.gateway.apidoc import PAGE, Param, Route, path_id
from services.gateway.authorization import Forbidden
from services.gateway.http import BadRequest, endpoint, json_response, read_json
from services.gateway.models import Tenant
from services.gateway.plumbing import Plumbing


class HouseholdRoutes(Plumbing):
    def _supervised(self, request: Request) -> tuple[str, str]:
        """(community, actor) of a supervisor key; a key of no community supervises nothing."""
        caller = self._caller(request)
        if not caller.community:
            raise Forbidden("this supervisor key belongs to no community")
        return caller.community, caller.actor

    def _community_estates(self, community: str) -> dict[str, str]:
        """estate id → its company's tenant id, for every company of the community."""
        with self.db.read() as session:
            ids = sorted(session.scalars(select(Tenant.id).where(Tenant.community == community)))
        return {estate["id"]: tenant for tenant in ids for estate in self._call("requests", "list_estates", tenant)}

    @endpoint("POST", "/api/v1/community/households/imports", body_limit="MAX_IMPORT_BODY_BYTES")
    def import_households(self, request: Request) -> Response:
        """CSV (``text/csv``, header estate_id,household,phone) or JSON ``{"rows": [...]}``; all or nothing."""
        community, actor = self._supervised(request)
        if (request.mimetype or "") == "text/csv":
            try:
                rows = register.rows_from_csv(request.get_data(cache=True).decode("utf-8"))
            except UnicodeDecodeError:
                raise BadRequest("the CSV must be UTF-8") from None
        else:
            rows = register.numbered(validated(register.RegisterImportSchema(), read_json(request))["rows"])
        estates = self._community_estates(community)
        with self.db.transaction() as session:
            report = register.import_rows(session, community, rows, estates, actor, utcnow())
        return json_response(report)

    @endpoint("GET", "/api/v1/community/households")
    def list_households(self, request: Request) -> Response:
        community, _ = self._supervised(request)
        query = validated(register.RegisterQuerySchema(), request.args.to_dict())
        with self.db.read() as session:
            return json_response(register.listing(session, community, query))

    @endpoint("GET", "/api/v1/community/household-claims")
    def list_household_claims(self, request: Request) -> Response:
        community, _ = self._supervised(request)
        query = validated(register.RegisterQuerySchema(), request.args.to_dict())
        with self.db.read() as session:
            return json_response(register.listing(session, community, query, status="pending"))

    @endpoint("POST", "/api/v1/community/household-claims/<string:claim_id>/confirm")
    def confirm_household_claim(self, request: Request, claim_id: str) -> Response:
        community, actor = self._supervised(request)
        with self.db.transaction() as session:
            return json_response(register.decide(session, community, claim_id, True, actor, utcnow()))

    @endpoint("POST", "/api/v1/community/household-claims/<string:claim_id>/reject")
    def reject_household_claim(self, request: Request, claim_id: str) -> Response:
        community, actor = self._supervised(request)
        with self.db.transaction() as session:
            return json_response(register.decide(session, community, claim_id, False, actor, utcnow()))


CLAIM = path_id("claim_id")
FILTERS = (
    Param("estate_id", "query", "only this estate"),
    Param("status", "query", "pending, confirmed or rejected"),
    Param("phone", "query", "only this mainland mobile"),
    *PAGE,
)

ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        "/api/v1/community/households/imports",
        "Party branch: import the household register (CSV estate_id,household,phone as text/csv, or JSON rows); "
        "all rows or none, importing again changes nothing",
        register.RegisterImportReportSchema,
        200,
        register.RegisterImportSchema,
        errors=(400, 403, 413, 415, 422),
        tag="community",
    ),
    Route(
        "GET",
        "/api/v1/community/households",
        "Party branch: the community's household register with residents' claims, newest first",
        register.HouseholdMemberSchema,
        many=True,
        params=FILTERS,
        errors=(403, 422),
        tag="community",
    ),
    Route(
        "GET",
        "/api/v1/community/household-claims",
        "Party branch: residents' claims waiting for a decision",
        register.HouseholdMemberSchema,
        many=True,
        params=(Param("estate_id", "query", "only this estate"), *PAGE),
        errors=(403, 422),
        tag="community",
    ),
    Route(
        "POST",
        "/api/v1/community/household-claims/{claim_id}/confirm",
        "Party branch: confirm a resident in the household they claimed (their votes and ratings count)",
        register.HouseholdMemberSchema,
        params=(CLAIM,),
        errors=(403, 404, 409),
        tag="community",
    ),
    Route(
        "POST",
        "/api/v1/community/household-claims/{claim_id}/reject",
        "Party branch: reject a resident's claim",
        register.HouseholdMemberSchema,
        params=(CLAIM,),
        errors=(403, 404, 409),
        tag="community",
    ),
)
