"""Schemathesis against ``/openapi.json``: generated requests, authenticated with a real key.

Every operation of the spec gets valid and invalid inputs; no answer may be a 5xx and every
answer must match what the spec documents (status, content type, body schema), and input the
spec forbids must be refused. The one check left out, "schema-valid input is accepted", cannot
hold for business rules no JSON Schema expresses (an estate id that does not exist, a phone
number of the right shape that is not a real mainland mobile): those are 422, as documented.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

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
