"""The community's household register over HTTP and the command line: imports, listing, claims, roles."""

import json
import uuid

import pytest

from services import cli
from services.common.errors import ValidationFailed
from services.gateway import tenants
from tests.support.api import Api, company_in
from tests.support.people import Seams, claim, sign_in, signed_in_browser

pytestmark = pytest.mark.integration

PATHS = (
    ("POST", "/api/v1/community/households/imports"),
    ("GET", "/api/v1/community/households"),
    ("GET", "/api/v1/community/household-claims"),
    ("POST", "/api/v1/community/household-claims/{claim_id}/confirm"),
    ("POST", "/api/v1/community/household-claims/{claim_id}/reject"),
)


@pytest.fixture(scope="module")
def community(platform):
    """Two companies in a community of their own, its party branch, and a company and branch elsewhere."""
    name = f"登记社区{uuid.uuid4().hex[:6]}"
    first = company_in(platform, name, f"甲物业{uuid.uuid4().hex[:4]}")
    second = company_in(platform, name, f"乙物业{uuid.uuid4().hex[:4]}")
    elsewhere_name = f"别的社区{uuid.uuid4().hex[:6]}"
    elsewhere = company_in(platform, elsewhere_name, f"丙物业{uuid.uuid4().hex[:4]}")
    with platform.store("gateway").transaction() as session:
        branch = tenants.create_tenant(session, f"{name}党委", name)
        supervisor = Api(platform, tenants.issue_key(session, branch["tenant_id"], role="supervisor"))
        other = tenants.create_tenant(session, f"{elsewhere_name}党委", elsewhere_name)
        other_supervisor = Api(platform, tenants.issue_key(session, other["tenant_id"], role="supervisor"))
        staff = Api(platform, tenants.issue_key(session, first.tenant_id, role="company_staff"))
    return {
        "name": name,
        "first": first,
        "second": second,
        "elsewhere": elsewhere,
        "supervisor": supervisor,
        "other_supervisor": other_supervisor,
        "staff": staff,
    }


def post_csv(api, path, text):
    headers = api.headers | {"Content-Type": "text/csv"}
    return api.lx.http.post(api.lx.base_url + path, data=text.encode(), headers=headers, timeout=15)


def test_a_supervisor_imports_the_register_as_csv_and_importing_again_changes_nothing(community):
    first, second, supervisor = community["first"], community["second"], community["supervisor"]
    csv = (
        "\ufeffestate_id,household,phone\n"
        f"{first.estate_id},5-5-505,13900110001\n"
        f"{first.estate_id},5-5-506,+86 139 0011 0002\n"
        f"{second.estate_id},1-2-301,13900110003\n"
    )
    imported = post_csv(supervisor, "/api/v1/community/households/imports", csv)
    assert imported.status_code == 200, imported.text
    report = imported.json()
    assert {k: report[k] for k in ("received", "created", "confirmed", "unchanged")} == {
        "received": 3,
        "created": 3,
        "confirmed": 0,
        "unchanged": 0,
    }
    assert [(line["line"], line["result"]) for line in report["lines"]] == [
        (2, "created"),
        (3, "created"),
        (4, "created"),
    ]
    again = post_csv(supervisor, "/api/v1/community/households/imports", csv).json()
    assert (again["created"], again["unchanged"]) == (0, 3)

    listed = supervisor.get("/api/v1/community/households", params={"estate_id": first.estate_id}).json()
    assert [(r["household"], r["phone"], r["status"], r["source"]) for r in listed["data"]] == [
        ("5-5-506", "+8613900110002", "confirmed", "register"),
        ("5-5-505", "+8613900110001", "confirmed", "register"),
    ]
    assert listed["data"][0]["tenant_id"] == first.tenant_id and listed["data"][0]["decided_by"]
    one = supervisor.get("/api/v1/community/households", params={"phone": "13900110003"}).json()["data"]
    assert [(r["estate_id"], r["household"]) for r in one] == [(second.estate_id, "1-2-301")]
    page = supervisor.get("/api/v1/community/households", params={"limit": 2}).json()
    rest = supervisor.get(
        "/api/v1/community/households", params={"limit": 2, "starting_after": page["data"][-1]["id"]}
    ).json()
    assert page["has_more"] and len(page["data"]) == 2
    assert {r["id"] for r in rest["data"]}.isdisjoint(r["id"] for r in page["data"])
    assert supervisor.get("/api/v1/community/households", params={"status": "maybe"}).status_code == 422


def test_one_bad_row_imports_nothing_and_every_bad_line_is_named(community):
    first, supervisor = community["first"], community["supervisor"]
    rows = [
        {"estate_id": first.estate_id, "household": "9-9-901", "phone": "13900220001"},
        {"estate_id": first.estate_id, "household": "楼下", "phone": "13900220002"},
        {"estate_id": community["elsewhere"].estate_id, "household": "9-9-903", "phone": "13900220003"},
        {"estate_id": first.estate_id, "household": "9-9-904", "phone": "12345"},
        {"estate_id": first.estate_id, "household": "9-9-901", "phone": "13900220001"},
    ]
    refused = supervisor.post("/api/v1/community/households/imports", {"rows": rows})
    assert refused.status_code == 422 and refused.headers["Content-Type"] == "application/problem+json"
    errors = refused.json()["errors"]["rows"]
    assert sorted(errors) == ["2", "3", "4", "5"]
    assert list(errors["2"]) == ["household"] and list(errors["3"]) == ["estate_id"]
    assert list(errors["4"]) == ["phone"] and "repeats line 1" in errors["5"]["phone"][0]
    nothing = supervisor.get("/api/v1/community/households", params={"phone": "13900220001"}).json()["data"]
    assert nothing == []
    no_header = post_csv(supervisor, "/api/v1/community/households/imports", "楼,室\n1,2\n")
    assert no_header.status_code == 422 and "file" in no_header.json()["errors"]


def test_company_keys_may_not_touch_the_register(community):
    first, staff = community["first"], community["staff"]
    for api in (first, staff):  # company_admin, company_staff
        for method, path in PATHS:
            url = path.format(claim_id="anything")
            response = api.lx.http.request(method, api.lx.base_url + url, json={}, headers=api.headers, timeout=15)
            assert response.status_code == 403, (method, path, response.text)
            assert response.headers["Content-Type"] == "application/problem+json"


def test_a_resident_claims_and_only_the_communitys_supervisor_decides(platform, community):
    first, supervisor, other = community["first"], community["supervisor"], community["other_supervisor"]
    actions = Seams(platform)
    resident = sign_in(platform, "13900330001")
    made = actions._claim_household(resident, first.tenant_id, first.estate_id, "3-3-303")
    assert (made["status"], made["source"], made["community"]) == ("pending", "claim", community["name"])
    assert actions._claim_household(resident, first.tenant_id, first.estate_id, "3-3-303")["id"] == made["id"]
    with pytest.raises(ValidationFailed) as unknown:
        actions._claim_household(resident, first.tenant_id, community["elsewhere"].estate_id, "3-3-303")
    assert list(unknown.value.errors) == ["estate_id"]
    with pytest.raises(ValidationFailed):
        actions._claim_household(resident, first.tenant_id, first.estate_id, "楼上")
    assert actions._my_households(resident) == [made]
    rejected = claim(platform, community["name"], first.tenant_id, first.estate_id, "3-3-304", "13900330002")

    pending = supervisor.get("/api/v1/community/household-claims").json()["data"]
    assert {c["id"] for c in pending} >= {made["id"], rejected["id"]}
    assert all(c["status"] == "pending" for c in pending)
    assert other.post(f"/api/v1/community/household-claims/{made['id']}/confirm", {}).status_code == 404
    confirmed = supervisor.post(f"/api/v1/community/household-claims/{made['id']}/confirm", {})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert supervisor.post(f"/api/v1/community/household-claims/{made['id']}/reject", {}).status_code == 409
    no = supervisor.post(f"/api/v1/community/household-claims/{rejected['id']}/reject", {})
    assert no.json()["status"] == "rejected"
    assert supervisor.post("/api/v1/community/household-claims/nope/confirm", {}).status_code == 404
    left = {c["id"] for c in supervisor.get("/api/v1/community/household-claims").json()["data"]}
    assert not left & {made["id"], rejected["id"]}


def test_the_register_from_the_command_line(platform, community, capsys, tmp_path):
    first = community["first"]
    register_file = tmp_path / "register.csv"
    register_file.write_text(f"estate_id,household,phone\n{first.estate_id},4-4-404,13900440001\n", encoding="utf-8")
    bad_file = tmp_path / "bad.csv"
    bad_file.write_text(f"estate_id,household,phone\n{first.estate_id},4-4,13900440002\n", encoding="utf-8")
    with platform.with_env():
        assert cli.main(["households", "import", community["name"], str(register_file)]) == 0
        assert json.loads(capsys.readouterr().out) == {"received": 1, "created": 1, "confirmed": 0, "unchanged": 0}
        assert cli.main(["households", "import", community["name"], str(register_file)]) == 0
        assert json.loads(capsys.readouterr().out)["unchanged"] == 1
        assert cli.main(["households", "import", community["name"], str(bad_file)]) == 1
        assert "household" in json.loads(capsys.readouterr().err)["errors"]["rows"]["2"]
        assert cli.main(["households", "list", community["name"], "--status", "confirmed"]) == 0
        listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert ("4-4-404", "+8613900440001") in {(r["household"], r["phone"]) for r in listed}
    with platform.with_env(), pytest.raises(SystemExit, match="no community named"):
        cli.main(["households", "import", "没有这个社区", str(register_file)])


def test_a_resident_claims_a_household_on_the_estates_page_and_the_supervisor_confirms_it(platform, community):
    first, supervisor, staff = community["first"], community["supervisor"], community["staff"]
    browser = signed_in_browser(platform, "13900330011")
    page = f"{platform.base_url}/e/{first.estate_id}"
    before = browser.get(page, timeout=15)
    assert before.status_code == 200 and "申请确认住户" in before.text

    without_token = browser.post(f"{page}/households", data={"household": "6-1-601"}, allow_redirects=False)
    assert without_token.status_code == 403
    bad = browser.post(f"{page}/households", data={"household": "六楼", "csrf": browser.csrf}, allow_redirects=False)
    assert bad.status_code == 422 and 'value="六楼"' in bad.text
    assert supervisor.get("/api/v1/community/households", params={"phone": "13900330011"}).json()["data"] == []

    made = browser.post(
        f"{page}/households", data={"household": "6-1-601", "csrf": browser.csrf}, allow_redirects=False
    )
    assert made.status_code == 303 and made.headers["Location"] == f"/e/{first.estate_id}?done=claim"
    shown = browser.get(platform.base_url + made.headers["Location"], timeout=15).text
    assert "社区确认后即可投票" in shown and "6-1-601" in shown and "待社区确认" in shown

    (claim_row,) = [
        c for c in supervisor.get("/api/v1/community/household-claims").json()["data"] if c["household"] == "6-1-601"
    ]
    # The company being rated has no say in it.
    assert staff.post(f"/api/v1/community/household-claims/{claim_row['id']}/confirm", {}).status_code == 403
    assert first.post(f"/api/v1/community/household-claims/{claim_row['id']}/confirm", {}).status_code == 403
    assert "待社区确认" in browser.get(page, timeout=15).text
    assert supervisor.post(f"/api/v1/community/household-claims/{claim_row['id']}/confirm", {}).status_code == 200
    after = browser.get(page, timeout=15).text
    assert "社区已确认" in after and "申请确认住户" not in after
