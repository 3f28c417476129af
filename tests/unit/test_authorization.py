"""The authorization table: every authenticated endpoint has a rule, and the rules say what the roles mean."""

from __future__ import annotations

import pytest

from services.gateway.authorization import POLICY, ROLES, Forbidden, check, spec_path
from services.gateway.openapi import spec

pytestmark = pytest.mark.unit


def authenticated_routes() -> set[tuple[str, str]]:
    return {(m.upper(), p) for p, ops in spec()["paths"].items() for m, op in ops.items() if op.get("security")}


def test_every_authenticated_endpoint_has_a_rule_and_no_rule_is_stale():
    assert sorted(authenticated_routes() - set(POLICY)) == []
    assert sorted(set(POLICY) - authenticated_routes()) == []


def test_rules_name_known_roles_only():
    assert {role for roles in POLICY.values() for role in roles} <= set(ROLES)


def test_the_documented_form_of_a_rule():
    assert spec_path("/api/v1/cases/<string:case_id>/transitions") == "/api/v1/cases/{case_id}/transitions"
    assert spec_path("/api/v1/keys/<key_id>/revoke") == "/api/v1/keys/{key_id}/revoke"


@pytest.mark.parametrize(("method", "path"), sorted(authenticated_routes()))
def test_nothing_that_changes_data_is_open_to_a_supervisor_outside_supervision(method, path):
    """The party branch reads and instructs through the community routes; it changes nothing else."""
    if "/community/" in path or path == "/api/v1/me":
        return
    assert "supervisor" not in POLICY[(method, path)]


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_manage_keys(role):
    for method, path in (("GET", "/api/v1/keys"), ("POST", "/api/v1/keys"), ("POST", "/api/v1/keys/<key_id>/revoke")):
        if role == "company_admin":
            check(role, method, path)
        else:
            with pytest.raises(Forbidden):
                check(role, method, path)


def test_a_resident_app_may_submit_and_read_cases_but_not_move_them():
    check("resident_app", "POST", "/api/v1/cases")
    check("resident_app", "GET", "/api/v1/cases/<string:case_id>")
    with pytest.raises(Forbidden) as refused:
        check("resident_app", "POST", "/api/v1/cases/<string:case_id>/transitions")
    assert refused.value.detail == "a resident_app key may not call POST /api/v1/cases/{case_id}/transitions"


@pytest.mark.parametrize("role", ROLES)
def test_a_route_missing_from_the_table_is_refused_to_every_role(role):
    with pytest.raises(Forbidden) as refused:
        check(role, "DELETE", "/api/v1/cases/<string:case_id>")
    assert refused.value.detail == f"a {role} key may not call DELETE /api/v1/cases/{{case_id}}"
