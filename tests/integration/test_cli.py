"""The operator's command line against the running platform."""

import json

import pytest

from services import cli

pytestmark = pytest.mark.integration


def test_tenant_create_then_key_rotate_revokes_the_old_key(platform, capsys):
    with platform.with_env():
        assert cli.main(["tenant", "create", "--name", "轮换物业", "--community", "政通路社区"]) == 0
        created = json.loads(capsys.readouterr().out)
        assert sorted(created) == ["api_key", "tenant_id"]
        assert cli.main(["tenant", "key", "rotate", "--name", "轮换物业"]) == 0
        rotated = json.loads(capsys.readouterr().out)
        assert cli.main(["tenant", "key", "rotate", "--name", "没有这家"]) == 1
    assert rotated["tenant_id"] == created["tenant_id"]
    assert rotated["revoked"] == [created["api_key"][:12]]
    old = platform.http.get(
        platform.base_url + "/api/v1/estates", headers={"Authorization": f"Bearer {created['api_key']}"}
    )
    new = platform.http.get(
        platform.base_url + "/api/v1/estates", headers={"Authorization": f"Bearer {rotated['api_key']}"}
    )
    assert (old.status_code, new.status_code) == (401, 200)


def test_topology_declare_reports_what_it_declared(platform, capsys):
    with platform.with_env():
        assert cli.main(["topology", "declare"]) == 0
    from services.common.topology import all_subscriptions

    expected = f"declared 5 exchanges and {len(all_subscriptions())} event queues"
    assert capsys.readouterr().out.strip() == expected


def test_keys_with_roles_from_the_command_line(platform, capsys):
    with platform.with_env():
        assert cli.main(["tenant", "create", "--name", "角色物业", "--community", "政通路社区"]) == 0
        json.loads(capsys.readouterr().out)
        assert cli.main(["key", "create", "--tenant", "角色物业", "--role", "supervisor"]) == 0
        supervisor = json.loads(capsys.readouterr().out)["api_key"]
        assert cli.main(["key", "list", "--tenant", "角色物业"]) == 0
        listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert sorted(k["role"] for k in listed) == ["company_admin", "supervisor"]
        assert all("api_key" not in k for k in listed)
        me = platform.http.get(platform.base_url + "/api/v1/me", headers={"Authorization": f"Bearer {supervisor}"})
        assert (me.status_code, me.json()["role"], me.json()["community"]) == (200, "supervisor", "政通路社区")
        assert cli.main(["key", "revoke", "--tenant", "角色物业", supervisor[:12]]) == 0
        assert capsys.readouterr().out.strip() == "revoked 1 key"
    after = platform.http.get(platform.base_url + "/api/v1/me", headers={"Authorization": f"Bearer {supervisor}"})
    assert after.status_code == 401


def test_the_operator_issues_app_keys_that_act_for_nobody_without_a_resident_token(platform, capsys):
    with platform.with_env():
        assert cli.main(["tenant", "create", "--name", "应用物业", "--community", "政通路社区"]) == 0
        json.loads(capsys.readouterr().out)
        assert cli.main(["app-key", "issue", "连心App", "--tenant", "应用物业"]) == 0
        issued = json.loads(capsys.readouterr().out)
        assert (issued["app"], issued["role"]) == ("连心App", "resident_app")
        assert cli.main(["app-key", "list"]) == 0
        listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert {"app": "连心App", "tenant": "应用物业", "prefix": issued["api_key"][:12]}.items() <= next(
            k for k in listed if k["key_id"] == issued["key_id"]
        ).items()
        assert cli.main(["app-key", "issue", "x", "--tenant", "没有这家"]) == 1
    bearer = {"Authorization": f"Bearer {issued['api_key']}"}
    alone = platform.http.get(platform.base_url + "/api/v1/me", headers=bearer)
    assert alone.status_code == 401


def test_cases_export_is_csv_without_contacts_unless_asked(platform, company, capsys, tmp_path):
    company.case(company.estate_id, title='=HYPERLINK("http://x")', phone="13912341111")
    company.case(company.estate_id, title="楼道灯不亮")
    with platform.with_env():
        from services.gateway import tenants

        with platform.store("gateway").read() as session:
            name = session.get(tenants.Tenant, company.tenant_id).name
        assert cli.main(["cases", "export", "--tenant", name, "--since", "2000-01-01"]) == 0
        plain = capsys.readouterr().out.splitlines()
        target = tmp_path / "cases.csv"
        assert (
            cli.main(
                [
                    "cases",
                    "export",
                    "--tenant",
                    name,
                    "--since",
                    "2000-01-01",
                    "--with-contacts",
                    "--output",
                    str(target),
                ]
            )
            == 0
        )
    assert plain[0] == (  # every cell quoted: a ; inside a cell never splits it
        '"id","estate","category","priority","status","title","assignee","rating","reopen_count","created_at",'
        '"resolved_at","closed_at"'
    )
    assert len(plain) == 3 and "13912341111" not in "\n".join(plain)
    assert "'=HYPERLINK" in plain[1] and "楼道灯不亮" in plain[2]
    text = target.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].endswith('"reporter_name","reporter_phone","reporter_household"')
    assert "+8613912341111" in text


def test_the_operator_invites_a_company_s_first_admin_and_a_community_s_first_supervisor_once(platform, capsys):
    from tests.support.people import Resident

    with platform.with_env():
        assert cli.main(["tenant", "create", "--name", "工作台物业", "--community", "工作台社区"]) == 0
        json.loads(capsys.readouterr().out)
        assert (
            cli.main(["staff", "invite", "--company", "工作台物业", "--phone", "13700001001", "--name", "王经理"]) == 0
        )
        admin = json.loads(capsys.readouterr().out)
        assert (admin["role"], admin["company"], admin["name"]) == ("company_admin", "工作台物业", "王经理")
        second = ["staff", "invite", "--company", "工作台物业", "--phone", "13700001002", "--name", "李"]
        assert cli.main(second) == 1
        assert "already has an admin" in capsys.readouterr().err
        assert cli.main(["staff", "invite", "--company", "没有这家", "--phone", "13700001002", "--name", "李"]) == 1
        assert cli.main(["staff", "invite", "--community", "工作台社区", "--phone", "13700001003", "--name", "赵"]) == 0
        chief = json.loads(capsys.readouterr().out)
        assert (chief["role"], chief["community"]) == ("supervisor", "工作台社区")
        assert cli.main(["staff", "invite", "--company", "工作台物业", "--phone", "12", "--name", "x"]) == 2
        assert cli.main(["staff", "list", "--company", "工作台物业"]) == 0
        listed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [(m["name"], m["role"], m["phone"]) for m in listed] == [("王经理", "company_admin", "137****1001")]
    assert Resident(platform, "+8613700001001").get("/workbench").status_code == 200  # once signed in
    assert Resident(platform, "+8613700001002").get("/workbench").status_code == 403
