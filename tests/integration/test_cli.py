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
    assert capsys.readouterr().out.strip() == "declared 5 exchanges and 10 event queues"
