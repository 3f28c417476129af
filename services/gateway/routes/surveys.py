"""The resident's survey page: no API key, the token is the credential, a GET records nothing."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from services.common.errors import Conflict, Gone, NotFound, ValidationFailed
from services.gateway import pages
from services.gateway.apidoc import Param, Route
from services.gateway.http import endpoint, json_response, problem_from, read_json
from services.gateway.plumbing import Plumbing, html
from services.surveys.schemas import AnswerSchema, SurveyPageSchema


class SurveyRoutes(Plumbing):
    @endpoint("GET", "/s/<string:token>")
    def survey_form(self, request: Request, token: str) -> Response:
        try:
            survey = self._call("surveys", "survey_page", token)
        except NotFound:
            return html(pages.survey_page("missing"), 404)
        state = "form" if survey["status"] == "issued" else survey["status"]
        return html(pages.survey_page(state, survey))

    @endpoint("POST", "/s/<string:token>")
    def survey_answer(self, request: Request, token: str) -> Response:
        as_json = (request.mimetype or "").endswith("json")
        payload = read_json(request) if as_json else request.form.to_dict()
        try:
            result = self._call("surveys", "answer", token, payload)
        except (NotFound, Conflict, Gone, ValidationFailed) as exc:
            if as_json:
                return problem_from(exc)
            return self._survey_error_page(token, exc)
        if as_json:
            return json_response(result)
        return html(pages.survey_page("thanks", result))

    def _survey_error_page(self, token: str, exc: Exception) -> Response:
        if isinstance(exc, NotFound):
            return html(pages.survey_page("missing"), 404)
        if isinstance(exc, Conflict):
            return html(pages.survey_page("answered"), 409)
        if isinstance(exc, Gone):
            survey = self._call("surveys", "survey_page", token)
            return html(pages.survey_page(survey["status"], survey), 410)
        survey = self._call("surveys", "survey_page", token)
        return html(pages.survey_page("form", survey, exc.errors), 422)


TOKEN = Param("token", "path", required=True)

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
        "Answer a survey (form or JSON), once",
        SurveyPageSchema,
        200,
        AnswerSchema,
        params=(TOKEN,),
        errors=(404, 409, 410, 422),
        auth=False,
        tag="surveys",
    ),
)
