"""The community's pages: the public league table and the party branch supervisor's dashboard.

The dashboard is for a browser, so the supervisor signs in once with the key (POST
``/p/login``) and the key rides in an HttpOnly, SameSite=Strict cookie scoped to ``/p``.
Signing in and out are forms with a double-submit CSRF token (:mod:`services.gateway.csrf`):
without it another site could sign a supervisor's browser in with a key of its choosing, or
out; a form without the token is a 403 and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from marshmallow import Schema, fields
from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from services.gateway import community_pages, csrf, tenants
from services.gateway.apidoc import Param, Route
from services.gateway.http import endpoint
from services.gateway.models import Tenant
from services.gateway.plumbing import Plumbing, html

COOKIE = "lx_supervisor"
FORM_EXPIRED = "页面已过期或来源不明，操作没有生效。请重新提交。"
LEAGUE_DAYS = 90


class CommunityRoutes(Plumbing):
    def _community(self, name: str) -> dict[str, str]:
        """tenant id → company name, for the companies of the community ``name``."""
        with self.db.read() as session:
            return dict(session.execute(select(Tenant.id, Tenant.name).where(Tenant.community == name)).all())

    @endpoint("GET", "/p/communities/<string:community>/league")
    def league_page(self, request: Request, community: str) -> Response:
        names = self._community(community)
        if not names:  # no such community: the same page, empty, as a 404
            nothing = {"companies": [], "estates": [], "minimum_cases": 5, "minimum_answers": 5}
            return html(community_pages.league_page(community, {}, {}, nothing, nothing, LEAGUE_DAYS), 404)
        ids = sorted(names)
        estate_names = {e["id"]: e["name"] for tenant in ids for e in self._call("requests", "list_estates", tenant)}
        requests_league = self._call("requests", "community_league", ids, LEAGUE_DAYS)
        survey_league = self._call("surveys", "league", {})
        return html(
            community_pages.league_page(community, names, estate_names, requests_league, survey_league, LEAGUE_DAYS)
        )

    def _with_form_token(self, request: Request, render: Callable[[str], str], status: int = 200) -> Response:
        """A page whose forms carry the browser's double-submit token (``render(token)`` → HTML)."""
        token = csrf.form_token(request)
        return csrf.with_cookie(html(render(token), status), token, self._secure_cookies())

    def _login_page(self, request: Request, error: str = "", status: int = 200) -> Response:
        return self._with_form_token(request, lambda token: community_pages.login_page(error, token), status)

    @endpoint("GET", "/p/login")
    def login_form(self, request: Request) -> Response:
        return self._login_page(request)

    @endpoint("POST", "/p/login")
    def login(self, request: Request) -> Response:
        if not csrf.double_submitted(request):
            return self._login_page(request, FORM_EXPIRED, 403)
        key = (request.form.get("key") or "").strip()
        with self.db.read() as session:
            found = tenants.authenticate(session, key) if key else None
        if found is None or found[1].role != "supervisor":
            return self._login_page(request, "密钥无效，或不是社区党组织的督办密钥。", 401)
        self.rate_limits.hit(found[1].id, found[1].rate_limit)
        response = see_other("/p/dashboard")
        secure = str(self.config.get("PUBLIC_BASE_URL", "")).startswith("https://")
        response.set_cookie(COOKIE, key, max_age=8 * 3600, path="/p", httponly=True, samesite="Strict", secure=secure)
        return response

    @endpoint("POST", "/p/logout")
    def logout(self, request: Request) -> Response:
        if not csrf.double_submitted(request):
            return self._login_page(request, FORM_EXPIRED, 403)
        response = see_other("/p/login")
        response.delete_cookie(COOKIE, path="/p")
        return response

    @endpoint("GET", "/p/dashboard")
    def dashboard(self, request: Request) -> Response:
        key = request.cookies.get(COOKIE, "")
        with self.db.read() as session:
            found = tenants.authenticate(session, key) if key else None
        if found is None or found[1].role != "supervisor" or not found[0].community:
            return see_other("/p/login")
        self.rate_limits.hit(found[1].id, found[1].rate_limit)
        community = found[0].community
        names = {tid: name for tid, name in self._community(community).items() if tid != found[0].id}
        figures = self._call("requests", "community_dashboard", sorted(names))
        return self._with_form_token(
            request, lambda token: community_pages.dashboard_page(community, names, figures, token)
        )


def see_other(location: str) -> Response:
    """A 303 to ``location``, with a link for anything that does not follow redirects."""
    body = f'<!doctype html><meta charset="utf-8"><a href="{location}">{location}</a>'
    return Response(body, status=303, headers={"Location": location}, mimetype="text/html")


class LoginSchema(Schema):
    key = fields.String(required=True, metadata={"description": "a supervisor API key"})
    csrf = fields.String(required=True, metadata={"description": "the login page's token (= the lx_csrf cookie)"})


ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "/p/communities/{community}/league",
        "Public league table of a community's companies and estates (红黑榜; small groups withheld)",
        None,
        params=(Param("community", "path", "the community's name, e.g. 政通路社区", True),),
        errors=(404,),
        auth=False,
        content="text/html",
        tag="pages",
    ),
    Route(
        "GET",
        "/p/login",
        "Sign-in page of the supervisor's dashboard",
        None,
        auth=False,
        content="text/html",
        tag="pages",
    ),
    Route(
        "POST",
        "/p/login",
        "Sign in with a supervisor key (form with the page's csrf): an HttpOnly cookie, then the dashboard",
        None,
        303,
        LoginSchema,
        errors=(401, 403),
        auth=False,
        content="text/html",
        tag="pages",
    ),
    Route(
        "POST",
        "/p/logout",
        "Sign out (form with the page's csrf)",
        None,
        303,
        errors=(403,),
        auth=False,
        content="text/html",
        tag="pages",
    ),
    Route(
        "GET",
        "/p/dashboard",
        "The supervisor's dashboard: open, overdue and escalated cases per company, 12-week trend",
        None,
        params=(Param("lx_supervisor", "cookie", "set by POST /p/login", schema={"type": "string"}),),
        errors=(303,),
        auth=False,
        content="text/html",
        tag="pages",
    ),
)
