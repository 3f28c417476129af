"""The community's league table (public) and the supervisor's dashboard (signed in), over HTTP."""

from __future__ import annotations

import re

import pytest

from services.gateway import tenants
from tests.support.api import Api
from tests.support.people import post_form

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


def test_the_dashboard_needs_a_supervisor_sign_in(platform, community_world):
    http, base = platform.http, platform.base_url
    anonymous = http.get(base + "/p/dashboard", allow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["Location"]) == (303, "/p/login")
    company_key = community_world["good"].headers["Authorization"].removeprefix("Bearer ")
    refused = post_form(platform, base + "/p/login", {"key": company_key}, allow_redirects=False)
    assert refused.status_code == 401 and "不是社区党组织的督办密钥" in refused.text

    import requests as requests_lib

    browser = requests_lib.Session()
    form = browser.get(base + "/p/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    assert browser.cookies["lx_csrf"] == token
    signed = browser.post(
        base + "/p/login", data={"key": community_world["supervisor"], "csrf": token}, allow_redirects=False
    )
    assert (signed.status_code, signed.headers["Location"]) == (303, "/p/dashboard")
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/p" in cookie
    page = browser.get(base + "/p/dashboard")
    assert page.status_code == 200
    assert community_world["name"] in page.text
    assert re.search(r'<strong id="open">1</strong>', page.text)
    assert names(community_world["small"], platform) in page.text
    assert page.text.count("<svg") == 1
    assert "13900074000" not in page.text
    token = re.search(r'action="/p/logout"><input type="hidden" name="csrf" value="([^"]+)"', page.text).group(1)
    out = browser.post(base + "/p/logout", data={"csrf": token}, allow_redirects=False)
    assert out.status_code == 303
    assert browser.get(base + "/p/dashboard", allow_redirects=False).status_code == 303
