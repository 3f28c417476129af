"""The community's league table (public) and the supervisor's dashboard (signed in), over HTTP."""

from __future__ import annotations

import re
import uuid

import pytest

from services.common.testing import wait_for
from services.gateway import tenants
from tests.conftest import Api
from tests.integration.test_closed_loop import survey_link

pytestmark = pytest.mark.integration


def company_in(platform, community: str, name: str) -> Api:
    with platform.store("gateway").transaction() as session:
        created = tenants.create_tenant(session, name, community)
    api = Api(platform, created["api_key"])
    api.tenant_id = created["tenant_id"]
    api.estate_id = api.post("/api/v1/estates", {"name": f"{name[:2]}花园", "households": 300}).json()["id"]
    return api


def closed_and_rated(platform, api: Api, n: int, score: int, phone_base: int) -> None:
    for i in range(n):
        phone = f"139{phone_base + i:08d}"
        case = api.case(api.estate_id, phone=phone)
        api.close(case["id"])
        link = wait_for(lambda phone=phone: survey_link(platform, api.tenant_id, "+86" + phone), timeout=30)
        answer = {"score": str(score), "solved": "yes"}
        resident = {"User-Agent": f"resident-phone-{phone}"}  # each resident answers from their own phone
        assert platform.http.post(link, data=answer, headers=resident).status_code == 200


@pytest.fixture(scope="module")
def community(platform):
    name = f"测试社区{uuid.uuid4().hex[:6]}"
    good = company_in(platform, name, f"好物业{uuid.uuid4().hex[:4]}")
    fair = company_in(platform, name, f"中物业{uuid.uuid4().hex[:4]}")
    small = company_in(platform, name, f"小物业{uuid.uuid4().hex[:4]}")
    closed_and_rated(platform, good, 5, 5, 71_000)
    closed_and_rated(platform, fair, 5, 3, 72_000)
    closed_and_rated(platform, small, 2, 5, 73_000)
    open_case = small.case(small.estate_id, phone="13900074000")
    with platform.store("gateway").transaction() as session:
        branch = tenants.create_tenant(session, f"{name}党委", name)
        supervisor = tenants.issue_key(session, branch["tenant_id"], role="supervisor")
    return {"name": name, "good": good, "fair": fair, "small": small, "supervisor": supervisor, "open": open_case}


def names(api: Api, platform) -> str:
    with platform.store("gateway").read() as session:
        return session.get(tenants.Tenant, api.tenant_id).name


def test_the_league_shows_rates_and_withholds_small_groups(platform, community):
    page = platform.http.get(platform.base_url + f"/p/communities/{community['name']}/league")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    text = page.text
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td class=\"num\">([^<]+)</td><td class=\"num\">([^<]+)</td>"
        r"<td class=\"num\">([^<]+)</td><td class=\"num\">([^<]+)</td></tr>",
        text,
    )
    by_name = {row[0]: row[1:] for row in rows}
    assert by_name[names(community["good"], platform)] == ("100%", "5", "100%", "0%")
    assert by_name[names(community["fair"], platform)] == ("0%", "5", "100%", "0%")
    assert names(community["small"], platform) not in by_name  # 2 answers, 2 cases: withheld
    assert text.count("<svg") == 2 and "满意度" in text
    assert "13900071000" not in text and "陈先生" not in text
    assert platform.http.get(platform.base_url + "/p/communities/没有这个社区/league").status_code == 404


def test_the_dashboard_needs_a_supervisor_sign_in(platform, community):
    http, base = platform.http, platform.base_url
    anonymous = http.get(base + "/p/dashboard", allow_redirects=False)
    assert (anonymous.status_code, anonymous.headers["Location"]) == (303, "/p/login")
    company_key = community["good"].headers["Authorization"].removeprefix("Bearer ")
    refused = http.post(base + "/p/login", data={"key": company_key}, allow_redirects=False)
    assert refused.status_code == 401 and "不是社区党组织的督办密钥" in refused.text

    import requests as requests_lib

    browser = requests_lib.Session()
    signed = browser.post(base + "/p/login", data={"key": community["supervisor"]}, allow_redirects=False)
    assert (signed.status_code, signed.headers["Location"]) == (303, "/p/dashboard")
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/p" in cookie
    page = browser.get(base + "/p/dashboard")
    assert page.status_code == 200
    assert community["name"] in page.text
    assert re.search(r'<strong id="open">1</strong>', page.text)
    assert names(community["small"], platform) in page.text
    assert page.text.count("<svg") == 1
    assert "13900074000" not in page.text
    out = browser.post(base + "/p/logout", allow_redirects=False)
    assert out.status_code == 303
    assert browser.get(base + "/p/dashboard", allow_redirects=False).status_code == 303
