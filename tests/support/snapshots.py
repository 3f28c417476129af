"""What a write would touch, read back through its owner's own key: to prove a refused write changed nothing.

The reads come from ``/openapi.json``: for each id a write names, the documented GET of that id
(``/api/v1/X/{id}``) and every documented GET below it (a case's comments, photos, visits,
surveys, audit …). An id with no GET of its own is shown by the lists in :data:`SHOWN_BY`; an id
in neither raises, so a new endpoint is mapped here before its test can pass.

Nothing is stripped from the answers: no field of them moves with the clock alone (measured: once
the world has settled, every read of every record agrees with the one before, for the whole
module), so any difference is a write.
"""

from __future__ import annotations

import re
from typing import Any

from tests.support.probes import SHARED_PARAMS, documented_routes

# id → (documented GET, query parameters as victim-id names or literals) for ids no GET is named after.
SHOWN_BY: dict[str, list[tuple[str, dict[str, str]]]] = {
    # A visit is read on its case and on its volunteer's schedule.
    "visit_id": [("/api/v1/cases/{case_id}/visits", {}), ("/api/v1/volunteers/{volunteer_id}/schedule", {})],
    # A shift and a sign-up are parts of their activity.
    "shift_id": [("/api/v1/activities/{activity_id}", {})],
    "signup_id": [("/api/v1/activities/{activity_id}", {}), ("/api/v1/activities/{activity_id}/signups", {})],
    "message_id": [("/api/v1/inbox", {"phone": "13912349001"})],  # the reporter of one_of_everything
    "key_id": [("/api/v1/keys", {})],
    # A claim is read by its community's party branch, with the register it would change.
    "claim_id": [
        ("/api/v1/community/household-claims", {"estate_id": "{estate_id}"}),
        ("/api/v1/community/households", {"estate_id": "{estate_id}"}),
    ],
}


def documented_gets() -> list[str]:
    """Every authenticated GET of ``/openapi.json``."""
    return [path for method, path in documented_routes() if method == "GET"]


Read = tuple[str, tuple[tuple[str, str], ...]]  # (documented GET, its query as pairs: hashable)


def reads_for(path: str) -> list[Read]:
    """The documented GETs (path, query) that show every record ``path`` names; LookupError if one has none."""
    gets = documented_gets()
    reads: list[Read] = []
    for name in re.findall(r"\{(\w+)\}", path):
        if name in SHARED_PARAMS:
            continue
        own = [g for g in gets if g.endswith("{" + name + "}") and not g.startswith("/api/v1/community/")]
        roots = [(g, {}) for g in own] or SHOWN_BY.get(name)
        if not roots:
            raise LookupError(f"{path}: nothing documented reads a {name}; map it in tests/support/snapshots.py")
        for root, query in roots:
            below = [(g, ()) for g in gets if g.startswith(root + "/")] if root in own else []
            reads += [r for r in [(root, tuple(query.items())), *below] if r not in reads]
    return reads


def snapshot(reader, reads: list[Read], ids: dict[str, str]) -> dict[str, Any]:
    """Each read's answer as ``reader(path)`` (an Api) sees it; AssertionError if one is not 200."""
    seen: dict[str, Any] = {}
    for path, query in reads:
        url = path.format(**ids)
        response = reader(path).get(url, params={k: v.format(**ids) for k, v in query})
        assert response.status_code == 200, f"{url} is not readable by its owner: {response.status_code}"
        json = response.headers.get("Content-Type", "").startswith("application/json")
        seen[url] = response.json() if json else response.content
    return seen
