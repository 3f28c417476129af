"""Schemathesis against ``/openapi.json``: generated requests, authenticated with a real key.

Every operation of the spec gets valid and invalid inputs; no answer may be a 5xx and every
answer must match what the spec documents (status, content type, body schema), and input the
spec forbids must be refused. The one check left out, "schema-valid input is accepted", cannot
hold for business rules no JSON Schema expresses (an estate id that does not exist, a phone
number of the right shape that is not a real mainland mobile): those are 422, as documented.

Then every operation that needs a key is fuzzed again without credentials and with a revoked
key: each answer is 401, as documented, whatever the input; every POST carries one and the
same ``Idempotency-Key``, which was 422 before 401 when the key was checked first. Fewer
examples there: no input gets past the key, so more would only repeat the same answer.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from services.common.db import utcnow
from services.gateway.openapi import spec
from tests.support.api import new_company

pytestmark = pytest.mark.integration

SCHEMA = schemathesis.openapi.from_dict(spec())
EXAMPLES_PER_OPERATION = 40
SENT: list[str] = []


@pytest.fixture(scope="module")
def fuzz_company(platform):
    return new_company(platform)


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case, platform, fuzz_company):
    SENT.append(f"{case.method} {case.path}")
    case.call_and_validate(
        base_url=platform.base_url, headers=fuzz_company.headers, timeout=15, excluded_checks=[positive_data_acceptance]
    )


def test_at_least_a_thousand_requests_were_generated():
    """Runs after the parametrized test above (file order): the fuzzing was not trivially small."""
    assert len(SENT) >= 1000, len(SENT)


# --- the same operations, by callers who are nobody ------------------------------------------------

# Generated requests only (valid and invalid): the coverage phase's hundreds of edge cases per
# operation all meet the same check of the key first, and took minutes.
KEY_ROUTES = schemathesis.openapi.from_dict(
    spec(),
    config=SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}, "examples": {"enabled": False}}}),
).include(lambda ctx: bool(ctx.operation.definition.raw.get("security")))
REFUSED_EXAMPLES = 4  # per operation, each sent twice: 108 operations, at most 864 requests in all
USED_KEY = "fuzz-the-same-key-every-time"
NOBODY_SENT: list[str] = []


@pytest.fixture(scope="module")
def revoked_key(platform, fuzz_company):
    """A key of the fuzzed company, revoked: as good as none."""
    from services.gateway import tenants

    with platform.store("gateway").transaction() as session:
        key = tenants.issue_key(session, fuzz_company.tenant_id, role="company_admin")
        tenants.authenticate(session, key)[1].revoked_at = utcnow()
    return key


def assert_refused(case, response) -> None:
    """401 as documented (problem+json, or Open311's errors), or the router's 404/405: no route was named."""
    headers = response.headers  # lowercase names, lists of values
    if response.status_code in (404, 405) and "x-request-id" not in headers:
        return  # a path value ("/", "..") or a method (TRACE) that names no route: no endpoint of ours answered
    NOBODY_SENT.append(f"{case.method} {case.path}")
    assert response.status_code == 401, (case.method, case.formatted_path, response.status_code, response.text)
    assert headers.get("www-authenticate") == ['Bearer realm="lianxin"'], headers
    case.validate_response(
        response, checks=[status_code_conformance, content_type_conformance, response_schema_conformance]
    )


@KEY_ROUTES.parametrize()
@settings(max_examples=REFUSED_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_without_credentials_or_with_a_revoked_key_every_operation_is_401(case, platform, revoked_key):
    """Each generated request twice: with no credentials at all, then with the revoked key."""
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    used = {"Idempotency-Key": USED_KEY} if case.method == "POST" else {}
    for credentials in ({}, {"Authorization": f"Bearer {revoked_key}"}):
        assert_refused(case, case.call(base_url=platform.base_url, headers=used | credentials, timeout=15))


def test_the_refused_callers_tried_every_operation_that_needs_a_key():
    """Runs after the test above: it reached each operation (router 404/405s not counted)."""
    assert len(set(NOBODY_SENT)) == len(list(KEY_ROUTES.get_all_operations())), len(set(NOBODY_SENT))
