"""The community's league table (public), and the supervisor's old dashboard address, over HTTP."""

from __future__ import annotations

import re

import pytest

from services.common.db import utcnow
from services.gateway import staff, tenants
from tests.support.api import Api
from tests.support.people import Resident, anonymous, phone

pytestmark = pytest.mark.integration


def names(api: Api, platform) -> str:
    with platform.store("gateway").read() as session:
        return session.get(tenants.Tenant, api.tenant_id).name


def test_the_league_shows_rates_and_withholds_small_groups(platform, community_world):
    page = platform.http.get(platform.base_url + f"/p/communities/{community_world['name']}/league")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    text = page.text
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td class=\"num\">([^<]+)</td><td class=\"num\">([^<]+)</td>"
        r"<td class=\"num\">([^<]+)</td><td class=\"num\">([^<]+)</td></tr>",
        text,
    )
    by_name = {row[0]: row[1:] for row in rows}
    assert by_name[names(community_world["good"], platform)] == ("100%", "5", "100%", "0%")
    assert by_name[names(community_world["fair"], platform)] == ("0%", "5", "100%", "0%")
    assert names(community_world["small"], platform) not in by_name  # 2 answers, 2 cases: withheld
    assert text.count("<svg") == 2 and "满意度" in text
    assert "13900071000" not in text and "陈先生" not in text
    assert platform.http.get(platform.base_url + "/p/communities/没有这个社区/league").status_code == 404


def test_the_dashboard_is_the_supervisor_s_view_at_the_workbench_signed_in_by_phone(platform, community_world):
    """No key in a cookie any more: /p/dashboard sends to /workbench/branch, where a supervisor the
    operator invited signs in with their phone and sees the same figures."""
    old = anonymous(platform, "/p/dashboard")
    assert (old.status_code, old.headers["Location"]) == (303, "/workbench/branch")
    assert "Set-Cookie" not in old.headers
    assert anonymous(platform, "/p/login").status_code == 404
    assert anonymous(platform, "/workbench/branch").headers["Location"] == "/signin?next=/workbench/branch"
    chief = phone()
    with platform.store("gateway").transaction() as session:
        # community_world is shared by the session (the browser test invites its first supervisor too)
        staff.invite(session, chief, "赵书记", "supervisor", "test", utcnow(), community=community_world["name"])
    page = Resident(platform, chief).get("/workbench/branch")
    assert page.status_code == 200
    assert community_world["name"] in page.text
    assert re.search(r'<strong id="open">1</strong>', page.text)
    assert names(community_world["small"], platform) in page.text
    assert f"{community_world['name']}党委" not in page.text  # the party branch's own tenant is no company
    assert page.text.count("<svg") == 1
    assert "13900074000" not in page.text and "139****4000" not in page.text
