"""Surveys: the resident's page (token as credential, a GET records nothing), the tenant's
templates, timing and statistics, and the public league table."""

from __future__ import annotations

import hashlib
import logging
import re

from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from services.common.errors import Conflict, Gone, NotFound, ValidationFailed
from services.gateway import csrf, pages
from services.gateway.apidoc import Param, Route, path_id
from services.gateway.authorization import Forbidden
from services.gateway.http import endpoint, json_response, problem_from, read_json
from services.gateway.models import Tenant
from services.gateway.plumbing import html
from services.gateway.residents import ResidentActions
from services.surveys.schemas import (
    AnswerSchema,
    CampaignCreateSchema,
    CampaignSchema,
    LeagueSchema,
    SettingsSchema,
    StatisticsRowSchema,
    SurveyPageSchema,
    TemplateCreateSchema,
    TemplateSchema,
)

SURVEY_PATH = re.compile(r"/s/[A-Za-z0-9_\-]+")


class RedactSurveyTokens(logging.Filter):
    """The web server's access log (eventlet's, at INFO) shows raw paths: survey tokens become ``***``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "/s/" in record.msg:
            record.msg = SURVEY_PATH.sub("/s/***", record.msg)
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(SURVEY_PATH.sub("/s/***", a) if isinstance(a, str) else a for a in record.args)
        return True


logging.getLogger("nameko.web.server").addFilter(RedactSurveyTokens())


def fingerprint(request: Request) -> str:
    """SHA-256 of the client's address and User-Agent: enough to see bursts, never the address itself.

    The client's address as the trusted proxies report it (``TRUSTED_PROXY_HOPS``; see
    :func:`services.gateway.http.behind_proxies`), else the socket's: never a forwarded address
    a client could vary at will.
    """
    seen = f"{request.remote_addr or ''}\n{request.headers.get('User-Agent', '')}"
    return hashlib.sha256(seen.encode()).hexdigest()


def form_answer(request: Request) -> dict:
    """A posted form: an untouched question (empty field) is no answer, not a blank one."""
    return {key: value for key, value in request.form.to_dict().items() if value.strip()}


def statistics_params(request: Request) -> dict:
    """Query string → the service's statistics query (``group_by=estate,month`` or repeated)."""
    params: dict = {key: request.args.get(key) for key in ("from", "to", "estate_id") if request.args.get(key)}
    groups = [part.strip() for value in request.args.getlist("group_by") for part in value.split(",") if part.strip()]
    params["group_by"] = groups
    return params


class SurveyRoutes(ResidentActions):
    @endpoint("GET", "/s/<string:token>")
    def survey_form(self, request: Request, token: str) -> Response:
        try:
            survey = self._call("surveys", "survey_page", token)
        except NotFound:
            return html(pages.survey_page("missing"), 404)
        state = "form" if survey["status"] == "issued" else survey["status"]
        return self._survey_page(request, state, survey)

    def _survey_page(
        self, request: Request, state: str, survey: dict, errors: dict | None = None, status: int = 200
    ) -> Response:
        """The page with its form's token: the session's when signed in (the answer may then be
        verified), else the browser's double-submit token, set in ``lx_csrf`` with the page."""
        person = self._person(request)
        token = person.csrf if person is not None else csrf.form_token(request)
        response = html(pages.survey_page(state, survey, errors, csrf=token), status)
        response.headers["Cache-Control"] = "no-store"  # a token of this browser (and a resident's case title)
        return response if person is not None else csrf.with_cookie(response, token, self._secure_cookies())

    def _form_from_our_page(self, request: Request) -> bool:
        """A posted answer form carries our page's token: the session's, or the double-submit one.

        A JSON body needs none: a browser sends JSON to another origin only after a CORS
        preflight, which the gateway never grants, so no other site can make a browser post it.
        """
        person = self._person(request)
        sent = request.form.get(csrf.FIELD, "")
        return (person is not None and csrf.same(sent, person.csrf)) or csrf.double_submitted(request)

    @endpoint("POST", "/s/<string:token>")
    def survey_answer(self, request: Request, token: str) -> Response:
        """Anyone holding the link may answer; the answer counts in public only when verified.

        Verified: the browser is signed in (``lx_session``, with the page's CSRF token) as a
        phone the community confirmed in the survey's household. A forwarded link, or a company
        answering for its residents, is recorded and shown to the company, never in the league.
        A form must come from our page (its token; 403 and nothing recorded otherwise).
        """
        as_json = (request.mimetype or "").endswith("json")
        if not as_json and not self._form_from_our_page(request):
            return html(pages.survey_page("forbidden"), 403)  # another site's form: nothing recorded
        payload = read_json(request) if as_json else form_answer(request)
        if isinstance(payload, dict):
            payload.pop("csrf", None)
        try:
            respondent = self._link_respondent(request, token)
            result = self._call("surveys", "answer", token, payload, fingerprint(request), respondent)
        except (NotFound, Conflict, Gone, ValidationFailed, Forbidden) as exc:
            if as_json:
                return problem_from(exc)
            return self._survey_error_page(request, token, exc)
        if as_json:
            return json_response(result)
        return html(pages.survey_page("thanks", result))

    def _survey_error_page(self, request: Request, token: str, exc: Exception) -> Response:
        if isinstance(exc, NotFound):
            return html(pages.survey_page("missing"), 404)
        if isinstance(exc, Forbidden):
            return html(pages.survey_page("own_company"), 403)
        if isinstance(exc, Conflict):
            return html(pages.survey_page("answered"), 409)
        if isinstance(exc, Gone):
            survey = self._call("surveys", "survey_page", token)
            return html(pages.survey_page(survey["status"], survey), 410)
        survey = self._call("surveys", "survey_page", token)
        return self._survey_page(request, "form", survey, exc.errors, 422)

    @endpoint("GET", "/api/v1/survey-templates")
    def list_survey_templates(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response({"data": self._call("surveys", "list_templates", tenant), "has_more": False})

    @endpoint("POST", "/api/v1/survey-templates")
    def save_survey_template(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("surveys", "save_template", tenant, read_json(request)), 201)

    @endpoint("GET", "/api/v1/survey-settings")
    def survey_settings(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("surveys", "get_settings", tenant))

    @endpoint("PUT", "/api/v1/survey-settings")
    def save_survey_settings(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("surveys", "save_settings", tenant, read_json(request)))

    @endpoint("GET", "/api/v1/survey-statistics")
    def survey_statistics(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        params = statistics_params(request)
        if "estate_id" in params:
            own = {estate["id"] for estate in self._call("requests", "list_estates", tenant)}
            if params["estate_id"] not in own:
                raise NotFound(f"estate {params['estate_id']} not found")
        rows = self._call("surveys", "tenant_statistics", tenant, params)
        return json_response({"data": rows, "has_more": False})

    @endpoint("POST", "/api/v1/survey-campaigns")
    def create_survey_campaign(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        payload = read_json(request)
        self._check_campaign_estates(tenant, payload)
        campaign = self._call("surveys", "create_campaign", tenant, payload)
        return json_response(campaign, 201, {"Location": f"/api/v1/survey-campaigns/{campaign['id']}"})

    def _check_campaign_estates(self, tenant: str, payload: object) -> None:
        """A campaign asks only the tenant's own estates' households."""
        if not isinstance(payload, dict) or not isinstance(payload.get("households"), list):
            return  # the surveys service reports the shape error
        own = {estate["id"] for estate in self._call("requests", "list_estates", tenant)}
        errors = {
            str(n): {"estate_id": ["没有这个小区 (no such estate)"]}
            for n, entry in enumerate(payload["households"])
            if isinstance(entry, dict) and isinstance(entry.get("estate_id"), str) and entry["estate_id"] not in own
        }
        if errors:
            raise ValidationFailed("unknown estate", {"households": errors})

    @endpoint("GET", "/api/v1/survey-campaigns")
    def list_survey_campaigns(self, request: Request) -> Response:
        tenant, _ = self._tenant(request)
        return json_response({"data": self._call("surveys", "list_campaigns", tenant), "has_more": False})

    @endpoint("GET", "/api/v1/survey-campaigns/<string:campaign_id>")
    def survey_campaign(self, request: Request, campaign_id: str) -> Response:
        tenant, _ = self._tenant(request)
        return json_response(self._call("surveys", "campaign", tenant, campaign_id))

    @endpoint("GET", "/api/v1/public/survey-league")
    def survey_league(self, request: Request) -> Response:
        params = statistics_params(request)
        params.pop("estate_id", None)
        params["group_by"] = []
        table = self._call("surveys", "league", params)
        tenants = {row["tenant"] for row in table["companies"] + table["estates"]}
        with self.db.read() as session:
            names = dict(session.execute(select(Tenant.id, Tenant.name).where(Tenant.id.in_(tenants))).all())
        estates = {}
        for tenant in sorted({row["tenant"] for row in table["estates"]}):
            estates |= {e["id"]: e["name"] for e in self._call("requests", "list_estates", tenant)}
        for row in table["companies"] + table["estates"]:
            row["company"] = names.get(row["tenant"])
            row["estate"] = estates.get(row["estate_id"]) if row["estate_id"] else None
        return json_response(table)


TOKEN = Param("token", "path", required=True)
MONTHS = (
    Param("from", "query", "first month (YYYY-MM, month of issue, Asia/Shanghai)"),
    Param("to", "query", "last month (YYYY-MM)"),
)

ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "/s/{token}",
        "The resident's survey page (records nothing)",
        None,
        params=(TOKEN,),
        errors=(404,),
        auth=False,
        content="text/html",
        tag="surveys",
    ),
    Route(
        "POST",
        "/s/{token}",
        "Answer a survey (form or JSON), once; a form carries the page's csrf field (403 without it); it counts "
        "in public only from a signed-in browser (lx_session cookie, with the session's csrf field or "
        "X-CSRF-Token) of a phone the community confirmed in the household",
        SurveyPageSchema,
        200,
        AnswerSchema,
        params=(TOKEN,),
        errors=(403, 404, 409, 410, 422),
        auth=False,
        tag="surveys",
    ),
    Route(
        "GET",
        "/api/v1/survey-templates",
        "The tenant's survey template versions, newest first (version 0: the default)",
        TemplateSchema,
        many=True,
        tag="surveys",
    ),
    Route(
        "POST",
        "/api/v1/survey-templates",
        "Save a new template version; surveys issued from now on use it",
        TemplateSchema,
        201,
        TemplateCreateSchema,
        errors=(409, 422),
        tag="surveys",
    ),
    Route("GET", "/api/v1/survey-settings", "The tenant's survey timing", SettingsSchema, tag="surveys"),
    Route(
        "PUT",
        "/api/v1/survey-settings",
        "Set link delay, expiry and reminder time (fields sent replace the stored ones)",
        SettingsSchema,
        200,
        SettingsSchema,
        errors=(422,),
        tag="surveys",
    ),
    Route(
        "GET",
        "/api/v1/survey-statistics",
        "Satisfaction figures of the tenant, per group",
        StatisticsRowSchema,
        many=True,
        params=(
            Param("group_by", "query", "comma-separated: estate, category, assignee, month"),
            *MONTHS,
            Param("estate_id", "query", "only this estate"),
        ),
        errors=(404, 422),
        tag="surveys",
    ),
    Route(
        "POST",
        "/api/v1/survey-campaigns",
        "Start an estate-wide survey campaign (邀业主评事): one link per household, sent at once",
        CampaignSchema,
        201,
        CampaignCreateSchema,
        errors=(422,),
        tag="surveys",
    ),
    Route(
        "GET",
        "/api/v1/survey-campaigns",
        "Campaigns with their response rates",
        CampaignSchema,
        many=True,
        tag="surveys",
    ),
    Route(
        "GET",
        "/api/v1/survey-campaigns/{campaign_id}",
        "A campaign's response rate, overall and per estate",
        CampaignSchema,
        params=(path_id("campaign_id"),),
        errors=(404,),
        tag="surveys",
    ),
    Route(
        "GET",
        "/api/v1/public/survey-league",
        "Public league table of companies and estates (groups under 5 answers withheld)",
        LeagueSchema,
        params=MONTHS,
        errors=(422,),
        auth=False,
        tag="surveys",
    ),
)
