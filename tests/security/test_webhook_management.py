"""Issue 18.1 and 18.3 through the API: internal URLs refused when saved; delete, a cap per
company, secret rotation and the deliveries list, each company-scoped.

The platform allows the loopback receiver by name (``WEBHOOK_ALLOWED_HOSTS=127.0.0.1`` in
``tests/conftest.py``), as an operator allows an on-premise one; every other spelling of
loopback is still refused, and no test here sends to a private or link-local address.
"""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.notifications.channels.webhook import verify
from tests.support.api import new_company
from tests.support.infra import wait_for

pytestmark = pytest.mark.integration

PUBLIC = "http://93.184.215.14/hooks"  # a literal public address: accepted without DNS, never sent to here


@pytest.fixture(scope="module")
def company(platform):
    return new_company(platform)


@pytest.fixture
def receiver():
    """A loopback endpoint that keeps every request and answers 500 to the first, then 204."""
    seen: list[dict] = []

    @Request.application
    def app(request: Request) -> Response:
        seen.append({"headers": dict(request.headers), "body": request.get_data()})
        return Response("internal detail the tenant must not see", status=500 if len(seen) == 1 else 204)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks", seen
    server.shutdown()


def delete(api, path):
    return api.lx.http.delete(api.lx.base_url + path, headers=api.headers, timeout=15)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.1:5672/",
        "http://2130706433:5432/",
        "http://0x7f000001:6379/",
        "http://0177.0.0.1:8080/",
        "http://[::1]:5672/",
        "http://[::ffff:127.0.0.1]:5672/",
        "http://localhost:5672/",
        "http://localhost.:5672/",
        "http://0.0.0.0:5672/",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/",
        "http://10.0.0.5/",
        "http://user:pw@93.184.215.14/hooks",
    ],
)
def test_an_internal_or_credentialed_url_is_refused_when_saved(company, url):
    response = company.post("/api/v1/webhooks", {"url": url, "event_types": ["case.closed"]})
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "url" in response.json()["errors"]


def test_a_company_deletes_its_webhook_and_another_company_cannot(platform, company):
    created = company.post("/api/v1/webhooks", {"url": PUBLIC, "event_types": ["case.closed"]}).json()
    other = new_company(platform)
    assert delete(other, f"/api/v1/webhooks/{created['id']}").status_code == 404
    assert company.get(f"/api/v1/webhooks/{created['id']}").status_code == 200
    gone = delete(company, f"/api/v1/webhooks/{created['id']}")
    assert gone.status_code == 204, gone.text
    assert company.get(f"/api/v1/webhooks/{created['id']}").status_code == 404
    assert created["id"] not in company.get("/api/v1/webhooks").text


def test_a_company_has_at_most_the_cap_of_webhooks(platform):
    capped = new_company(platform)
    made = [capped.post("/api/v1/webhooks", {"url": PUBLIC, "event_types": ["case.closed"]}) for _ in range(10)]
    assert [r.status_code for r in made] == [201] * 10
    over = capped.post("/api/v1/webhooks", {"url": PUBLIC, "event_types": ["case.closed"]})
    assert over.status_code == 409, over.text
    assert "at most 10" in over.json()["detail"]
    assert delete(capped, f"/api/v1/webhooks/{made[0].json()['id']}").status_code == 204
    assert capped.post("/api/v1/webhooks", {"url": PUBLIC, "event_types": ["case.closed"]}).status_code == 201


def test_a_rotated_secret_is_shown_once_and_the_old_one_still_verifies_during_the_grace(platform, receiver):
    url, seen = receiver
    owner = new_company(platform)
    created = owner.post("/api/v1/webhooks", {"url": url, "event_types": ["case.closed"]}).json()
    old = created["secret"]
    rotated = owner.post(f"/api/v1/webhooks/{created['id']}/secret", {"previous_valid_hours": 1})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != old
    assert rotated.json()["previous_secret_expires_at"].endswith("Z")
    assert "secret" not in owner.get(f"/api/v1/webhooks/{created['id']}").json()
    other = new_company(platform)
    assert other.post(f"/api/v1/webhooks/{created['id']}/secret").status_code == 404

    assert owner.post(f"/api/v1/webhooks/{created['id']}/test").status_code == 202
    wait_for(lambda: seen)
    headers, body = seen[0]["headers"], seen[0]["body"]
    assert len(headers["Webhook-Signature"].split()) == 2
    verify(new, headers, body)  # receivers on the new secret
    verify(old, headers, body)  # and those not yet switched

    revoked = owner.post(f"/api/v1/webhooks/{created['id']}/secret", {"previous_valid_hours": 0}).json()
    assert revoked["previous_secret_expires_at"] is None


def test_the_deliveries_list_shows_status_attempts_code_and_a_generic_error(platform, receiver):
    url, seen = receiver
    owner = new_company(platform)
    hook = owner.post("/api/v1/webhooks", {"url": url, "event_types": ["case.closed"]}).json()
    closed = owner.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hooks", "event_types": ["case.closed"]}).json()
    owner.post(f"/api/v1/webhooks/{hook['id']}/test")
    owner.post(f"/api/v1/webhooks/{closed['id']}/test")

    def first_attempt(webhook_id):
        rows = owner.get(f"/api/v1/webhooks/{webhook_id}/deliveries").json()["data"]
        return rows if rows and rows[0]["attempts"] else None

    (answered,) = wait_for(lambda: first_attempt(hook["id"]))
    assert (answered["event_type"], answered["status"], answered["attempts"]) == ("webhook.test", "queued", 1)
    assert (answered["response_status"], answered["last_error"]) == (500, "HTTP 500")
    (refused,) = wait_for(lambda: first_attempt(closed["id"]))
    assert (refused["response_status"], refused["last_error"]) == (None, "connection failed")
    for row in (answered, refused):
        for name in ("created_at", "last_attempt_at", "next_attempt_at"):
            assert row[name].endswith("Z"), (name, row[name])
    listed = owner.get(f"/api/v1/webhooks/{hook['id']}").json()
    assert listed["created_at"].endswith("Z")
    assert listed["recent_deliveries"][0]["last_error"] == "HTTP 500"

    other = new_company(platform)
    assert other.get(f"/api/v1/webhooks/{hook['id']}/deliveries").status_code == 404
