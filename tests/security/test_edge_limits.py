"""Limits at the HTTP edge that keep a hostile body from turning into a 500."""

import pytest

from services.gateway.http import MAX_JSON_DEPTH, json_depth

PROBLEM = "application/problem+json"


@pytest.mark.integration
@pytest.mark.parametrize("body", [b"[" * 50_000, b'{"a":' * 5_000 + b"1" + b"}" * 5_000])
def test_deeply_nested_json_is_a_clear_400_not_a_500(platform, company, body):
    response = platform.http.post(
        platform.base_url + "/api/v1/estates", data=body, headers=company.headers | {"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.headers["Content-Type"].startswith(PROBLEM)
    assert response.json()["detail"] == f"body nests deeper than {MAX_JSON_DEPTH} levels"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("raw", "depth"),
    [(b"{}", 1), (b'{"a": [1, {"b": []}]}', 4), (b'{"a": "[[[[{{{{"}', 1), (b'["\\"[[["]', 1), (b"1", 0)],
)
def test_nesting_is_counted_outside_strings_only(raw, depth):
    assert json_depth(raw) == depth
