"""What the security tests send: bodies that pass validation, so the answer is about the id or the role."""

from __future__ import annotations

# (method, documented path) → a body that passes validation; other POST/PUT/PATCH routes get {}.
BODIES: dict[tuple[str, str], dict] = {
    ("POST", "/api/v1/cases/{case_id}/transitions"): {"action": "reopen", "note": "我来试试别人的事项"},
    ("POST", "/api/v1/visits/{visit_id}/complete"): {"outcome": "satisfied", "notes": "x"},
    ("PUT", "/api/v1/contacts/{contact_id}/preferences"): {"preferences": {"activity": ["inapp"]}},
    ("PATCH", "/api/v1/cases/{case_id}"): {"priority": "high"},
    ("POST", "/api/v1/cases/{case_id}/comments"): {"body": "别人的事项"},
    ("POST", "/api/v1/community/cases/{case_id}/instructions"): {"body": "别人的事项"},
    ("POST", "/api/v1/incidents/{incident_id}/updates"): {"body": "别人的事件"},
    ("POST", "/api/v1/incidents/{incident_id}/cases"): {"case_ids": ["nope"]},
    ("POST", "/api/v1/incidents/{incident_id}/resolve"): {"resolution": "别人的事件"},
    ("POST", "/api/v1/proposals/{proposal_id}/votes"): {"household": "1-1-101", "choice": "support"},
}


def send(api, method: str, path: str, ids: dict):
    """Call ``path`` (documented form) with ``ids`` filled in, as ``api``'s key."""
    url = path.format(**ids)
    body = BODIES.get((method, path), {}) if method != "GET" else None
    return api.lx.http.request(method, api.lx.base_url + url, json=body, headers=api.headers, timeout=15)


# Path parameters that name something every tenant has (a format, a category code), not a record
# of one tenant: a route with only these has no other tenant's id to try.
SHARED_PARAMS = frozenset({"format", "service_code", "code"})


def owns_an_id(path: str) -> bool:
    """Whether ``path`` names a record of one tenant (so another tenant must get 404)."""
    import re

    return any(name not in SHARED_PARAMS for name in re.findall(r"\{(\w+)\}", path))
