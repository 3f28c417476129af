"""The workbench's statistics (统计): satisfaction beside on-time and reopen rates, per estate,
category, assignee or month, with bar charts.

Company staff and admins (a supervisor has the league and the branch's view). The page asks
both services at once (``_call_together``: it waits for the slower, not the sum) with the same
query the API takes (``/api/v1/survey-statistics``, ``/api/v1/case-statistics``) and the
membership's company as the tenant, so it counts that company's cases and answers only. A month
that is not ``YYYY-MM`` or an unknown grouping is a 422 with what was typed and a message per
field; another company's estate is the 404 page, as over the API. The page changes nothing.
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from services.common.errors import NotFound, ValidationFailed
from services.gateway.apidoc import Param, Route
from services.gateway.http import endpoint
from services.gateway.routes.workbench import WorkbenchRoutes, _page, raised
from services.gateway.workbench import field_errors, workbench_page
from services.gateway.workbench_statistics import (
    GROUP_NAMES,
    bars,
    form_errors,
    statistics_query,
    statistics_rows,
    typed,
)


class WorkbenchStatisticsRoutes(WorkbenchRoutes):
    @endpoint("GET", "/workbench/statistics")
    def workbench_statistics(self, request: Request) -> Response:
        person, member = self._at_workbench(request)
        tenant = member.tenant_id
        form = typed(request.args.to_dict())
        query = statistics_query(form)
        answers = self._call_together(  # independent answers: the page waits for the slowest, not their sum
            ("surveys", "tenant_statistics", tenant, query),
            ("requests", "case_statistics", tenant, query),
            ("requests", "list_estates", tenant),
            ("requests", "list_categories", tenant),
        )
        estates, categories = raised(answers[2]), raised(answers[3])
        errors: dict[str, str] = {}
        rows: list[dict] = []
        try:
            survey_rows, case_rows = raised(answers[0]), raised(answers[1])
        except ValidationFailed as exc:
            errors = form_errors(field_errors(exc.errors))
        except NotFound:
            return self._workbench_message(person, member, 404, "没有找到这个小区", "小区不存在，或不属于您的公司。")
        else:
            rows = statistics_rows(
                form["group"], survey_rows, case_rows,
                {e["id"]: e["name"] for e in estates}, {c["code"]: c["name"] for c in categories},
            )  # fmt: skip
        return workbench_page(
            "workbench_statistics.html", person, member, 422 if errors else 200,
            form=form, errors=errors, rows=rows, charts=bars(rows), estates=estates, group_names=GROUP_NAMES,
        )  # fmt: skip


#: A page's field as typed: whatever it holds, the signed-in check comes first (303), then the page
#: answers 422 beside the field; no limit is documented that a request could break before that.
TYPED = {"type": "string"}

ROUTES: tuple[Route, ...] = (
    _page("GET", "/workbench/statistics", "Staff: satisfaction (CSAT, responses, response rate, NPS) beside "
          "on-time and reopen rates per estate, category, assignee or month, with bar charts",
          params=(Param("group", "query", "estate (default), category, assignee or month", schema=TYPED),
                  Param("from", "query", "first month (YYYY-MM, Asia/Shanghai)", schema=TYPED),
                  Param("to", "query", "last month (YYYY-MM)", schema=TYPED),
                  Param("estate_id", "query", "only this estate (another company's: the 404 page)", schema=TYPED)),
          errors=(303, 403, 404, 422)),
)  # fmt: skip
