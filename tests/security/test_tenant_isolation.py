"""One tenant never sees or touches another's data, on every documented endpoint.

The routes come from ``/openapi.json`` itself, so a new endpoint is covered the day it is
documented: one with a path id must have an id of the other tenant to try here (the test fails
otherwise), and every list must not carry any of the other tenant's ids.
"""

from __future__ import annotations

import re

import pytest

from tests.support.probes import SHARED_PARAMS, owns_an_id, send
from tests.support.probes import documented_routes as documented

pytestmark = pytest.mark.integration

# Query parameters a list needs to answer at all.
LIST_PARAMS = {"/api/v1/notifications": {"phone": "13912349001"}, "/api/v1/inbox": {"phone": "13912349001"}}


@pytest.mark.parametrize(("method", "path"), [r for r in documented() if owns_an_id(r[1])])
def test_another_tenants_id_is_404_on_every_endpoint(victim, intruder, method, path):
    names = re.findall(r"\{(\w+)\}", path)
    missing = [n for n in names if n not in victim.ids]
    assert not missing, f"no id of another tenant to try for {missing}: add one to the victim fixture"
    url = path.format(**victim.ids)
    response = send(intruder.for_path(path), method, path, victim.ids)
    assert response.status_code == 404, (method, url, response.status_code, response.text)
    if path.startswith("/open311/"):
        assert response.json()[0]["code"] == 404  # Open311's own error format
    else:
        assert response.headers["Content-Type"].startswith("application/problem+json")
    owned = {name: value for name, value in victim.ids.items() if name not in SHARED_PARAMS}
    assert not any(value in response.text for value in owned.values() if value not in url)


@pytest.mark.parametrize("path", sorted({p for m, p in documented() if m == "GET" and not owns_an_id(p)}))
def test_no_list_carries_another_tenants_ids(victim, intruder, path):
    response = intruder.for_path(path).get(path.format(**victim.ids), params=LIST_PARAMS.get(path, {}))
    assert response.status_code == 200, (path, response.text)
    leaked = [name for name, value in victim.ids.items() if name not in SHARED_PARAMS and value in response.text]
    assert leaked == [], f"{path} shows the other tenant's {leaked}"
