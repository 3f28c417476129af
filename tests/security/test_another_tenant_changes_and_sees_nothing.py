"""Strict isolation: another tenant's write leaves every record it names exactly as it was, and no
page of any list or search it can call shows the victim's ids, phones or names.

A 404 alone proves little: a write that changed the record and then answered 404 would pass
``test_tenant_isolation``. Here the victim reads each record (and everything documented below it)
through its own key before and after. Routes come from ``/openapi.json`` and the role table, so a
new endpoint is walked the day it is documented (and must be mapped in ``tests/support/snapshots``).
"""

from __future__ import annotations

import pytest

from services.gateway.authorization import POLICY
from services.gateway.openapi import spec
from tests.support.infra import wait_for
from tests.support.probes import documented_routes, marked_victim, owns_an_id, pages, query_params, send
from tests.support.snapshots import reads_for, snapshot

pytestmark = pytest.mark.integration

WRITES = sorted((m, p) for m, p in documented_routes() if m != "GET" and owns_an_id(p))
LISTS = sorted(p for m, p in documented_routes() if m == "GET" and not owns_an_id(p))
PAGES = 3  # pages walked per list and search (one item each where it pages): the cursor is crossed twice


@pytest.fixture(scope="module")
def world(platform, intruder):
    """The victim (one of everything, plus marked names and phones) once its closed case has settled.

    Closing a case schedules a visit, issues a survey and sends notices in the background: the
    snapshots only compare once two reads of everything in a row agree. The intruder gets cases of
    its own (its app's resident's), so its lists have pages to walk.
    """
    victim = marked_victim(platform)
    for _ in range(PAGES + 1):
        intruder.case(intruder.estate_id, phone="13912349101", household="1-1-101", title="水管爆裂")
    victim.reader = lambda path: victim.supervisor if path.startswith("/api/v1/community/") else victim
    everything = list(dict.fromkeys(r for _, path in WRITES for r in reads_for(path)))
    last: list = [None]

    def settled() -> bool:
        now = snapshot(victim.reader, everything, victim.ids)
        same, last[0] = now == last[0], now
        return same

    wait_for(settled, timeout=30)
    return victim


def test_every_write_with_an_id_has_a_record_to_read():
    unmapped = []
    for _, path in WRITES:
        try:
            reads_for(path)
        except LookupError as error:
            unmapped.append(str(error))
    assert unmapped == []


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_another_tenants_write_leaves_the_record_unchanged(world, intruder, method, path):
    reads = reads_for(path)
    before = snapshot(world.reader, reads, world.ids)
    response = send(intruder.for_path(path), method, path, world.ids)
    after = snapshot(world.reader, reads, world.ids)
    changed = [url for url in before if before[url] != after[url]]
    assert changed == [], f"{method} {path} by another tenant ({response.status_code}) changed {changed}"
    assert response.status_code == 404, (method, path, response.status_code, response.text)


def intruder_keys(intruder, path):
    """Each of the intruder's keys (company admin, resident app, party branch) its role lets call ``path``."""
    keys = {"company_admin": intruder, "resident_app": intruder.resident, "supervisor": intruder.supervisor}
    return [api for role, api in keys.items() if role in POLICY.get(("GET", path), ())]


def searches(path, victim):
    """The plain list, then every documented filter of it set to something of the victim's."""
    params = query_params("GET", path)
    wanted = {
        "q": list(victim.names.values()),
        "phone": [f(p) for p in victim.phones for f in (lambda p: "+86" + p, str)],
        "reporter_phone": ["+86" + p for p in victim.phones],
        "estate_id": [victim.ids["estate_id"], victim.ids["marked_estate_id"]],
        "volunteer_id": [victim.ids["volunteer_id"], victim.ids["marked_volunteer_id"]],
    }
    yield {}
    for name in sorted(params & wanted.keys()):
        for value in wanted[name]:
            yield {name: value}


def test_the_walk_crosses_pages(world, intruder):
    walked = list(pages(intruder, "/api/v1/cases", {}, world.ids, most=PAGES))
    assert [r.status_code for r in walked] == [200] * PAGES
    assert len({r.json()["data"][0]["id"] for r in walked}) == PAGES


@pytest.mark.parametrize("path", LISTS)
def test_no_page_of_any_list_or_search_shows_another_tenant(world, intruder, path):
    documented = set(spec()["paths"][path]["get"]["responses"])
    keys = intruder_keys(intruder, path)
    assert keys, f"no key of the intruder may call GET {path}: add its role to intruder_keys"
    for api in keys:
        for query in searches(path, world):
            for response in pages(api, path, query, world.ids, most=PAGES):
                status = response.status_code
                assert str(status) in documented and status < 500, (path, query, status, response.text[:300])
                asked = " ".join(map(str, query.values()))  # "estate … not found" may name what was asked
                leaked = [secret for secret in world.secrets if secret in response.text and secret not in asked]
                assert leaked == [], f"GET {path} {query} shows the other tenant's {leaked}"
