"""The community's public league table (红黑榜).

The party branch's dashboard that lived at ``/p/dashboard`` (signed in with a supervisor key kept
in a cookie) is now the supervisor's view at the workbench, ``/workbench/branch``, signed in by
phone (``routes/workbench_branch.py``); the old address redirects there. No key goes in a cookie.
"""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from services.gateway import community_pages
from services.gateway.apidoc import Param, Route
from services.gateway.http import endpoint
from services.gateway.models import Tenant
from services.gateway.plumbing import Plumbing, html

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

    @endpoint("GET", "/p/dashboard")
    def dashboard(self, request: Request) -> Response:
        """The old key-cookie dashboard is the party branch's view at the workbench now (phone sign-in)."""
        return see_other("/workbench/branch")


def see_other(location: str) -> Response:
    """A 303 to ``location``, with a link for anything that does not follow redirects."""
    body = f'<!doctype html><meta charset="utf-8"><a href="{location}">{location}</a>'
    return Response(body, status=303, headers={"Location": location}, mimetype="text/html")


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
        "/p/dashboard",
        "The party branch's old dashboard address: 303 to its view at the workbench, /workbench/branch",
        None,
        303,
        auth=False,
        content="text/html",
        tag="pages",
    ),
)
