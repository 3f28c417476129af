"""What the security tests send: bodies that pass validation, so the answer is about the id or the role."""

from __future__ import annotations

# (method, documented path) → a body that passes validation; other POST/PUT/PATCH routes get {}.
BODIES: dict[tuple[str, str], dict] = {
    ("POST", "/api/v1/cases/{case_id}/transitions"): {"action": "reopen", "note": "我来试试别人的事项"},
    ("POST", "/api/v1/visits/{visit_id}/complete"): {"outcome": "satisfied", "notes": "x"},
}


def send(api, method: str, path: str, ids: dict):
    """Call ``path`` (documented form) with ``ids`` filled in, as ``api``'s key."""
    url = path.format(**ids)
    body = BODIES.get((method, path), {}) if method != "GET" else None
    return api.lx.http.request(method, api.lx.base_url + url, json=body, headers=api.headers, timeout=15)
