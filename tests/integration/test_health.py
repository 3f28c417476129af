"""/livez, /readyz and /metrics of every service, and the metrics a closed case moves."""

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from services.common.broker import ConfirmingPublisher
from services.common.config import SERVICES
from services.common.outbox import to_outgoing
from services.requests.models import Outbox as RequestsOutbox
from tests.support.infra import wait_for

pytestmark = pytest.mark.integration

CASE_CLOSED_HANDLERS = ("volunteers", "surveys")


def get(platform, target, path):
    return platform.http.get(platform.health_url(target) + path, timeout=10)


def scrape(platform, target):
    response = get(platform, target, "/metrics")
    assert response.status_code == 200, response.text
    return response.text


def sample(text, name, **labels):
    """The value of one sample of a Prometheus text exposition, or None when absent."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return found.value
    return None


def counter(platform, target, name, **labels):
    """A sample from the /metrics of ``target`` (0 while the series does not exist yet)."""
    return sample(scrape(platform, target), name, **labels) or 0.0


def handled(platform, service, outcome):
    return counter(
        platform, service, "lianxin_events_handled_total", service=service, event_type="case.closed", outcome=outcome
    )


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_is_live_and_ready(platform, service):
    live = get(platform, service, "/livez")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    ready = get(platform, service, "/readyz")
    assert ready.status_code == 200, ready.text
    checks = {"database": "ok", "broker": "ok", "consumers": "ok"} | (
        {} if service == "gateway" else {"topology": "ok"}
    )
    assert ready.json() == {"status": "ok", "checks": checks}


def test_the_health_servers_listen_on_distinct_ports(platform):
    urls = {platform.health_url(service) for service in SERVICES}
    assert len(urls) == len(SERVICES)


def test_a_closed_case_moves_the_event_rpc_http_and_notification_metrics(platform, company):
    before = {service: handled(platform, service, "ok") for service in CASE_CLOSED_HANDLERS}
    rpc = {"service": "requests", "method": "transition"}
    rpc_before = counter(platform, "requests", "lianxin_rpc_seconds_count", **rpc)
    submitted = {"method": "POST", "route": "/api/v1/cases", "status": "201"}
    moved = {"method": "POST", "route": "/api/v1/cases/<string:case_id>/transitions", "status": "200"}
    http_before = {
        "submitted": counter(platform, "gateway", "lianxin_http_requests_total", **submitted),
        "moved": counter(platform, "gateway", "lianxin_http_requests_total", **moved),
        "timed": counter(platform, "gateway", "lianxin_http_seconds_count", route="/api/v1/cases"),
    }
    inapp_before = counter(
        platform, "notifications", "lianxin_notifications_total", channel="inapp", status="delivered"
    )

    case = company.case(company.estate_id)
    company.close(case["id"])

    wait_for(lambda: all(handled(platform, s, "ok") > before[s] for s in CASE_CLOSED_HANDLERS))
    assert {s: handled(platform, s, "ok") - before[s] for s in CASE_CLOSED_HANDLERS} == {"volunteers": 1, "surveys": 1}
    text = scrape(platform, "volunteers")
    assert 'lianxin_events_handled_total{event_type="case.closed",outcome="ok",service="volunteers"}' in text
    assert sample(text, "lianxin_handler_seconds_count", service="volunteers", event_type="case.closed") >= 1

    # The worker's timing is recorded just after its reply is sent: wait for the fifth.
    wait_for(lambda: counter(platform, "requests", "lianxin_rpc_seconds_count", **rpc) - rpc_before >= 5)
    assert counter(platform, "requests", "lianxin_rpc_seconds_count", **rpc) - rpc_before == 5

    gateway = scrape(platform, "gateway")
    assert sample(gateway, "lianxin_http_requests_total", **submitted) - http_before["submitted"] == 1
    assert sample(gateway, "lianxin_http_requests_total", **moved) - http_before["moved"] == 5
    assert sample(gateway, "lianxin_http_seconds_count", route="/api/v1/cases") - http_before["timed"] == 1
    assert sample(gateway, "lianxin_http_requests_total", route=f"/api/v1/cases/{case['id']}/transitions") is None

    # case.submitted and survey.issued to the resident, visit.scheduled to resident and volunteer
    def inapp():
        value = counter(platform, "notifications", "lianxin_notifications_total", channel="inapp", status="delivered")
        return value - inapp_before

    wait_for(lambda: inapp() >= 4)
    assert inapp() == 4


def test_a_redelivered_event_counts_as_a_duplicate_not_as_handled(platform, company):
    before = {service: handled(platform, service, "ok") for service in CASE_CLOSED_HANDLERS}
    case = company.case(company.estate_id)
    company.close(case["id"])
    wait_for(lambda: all(handled(platform, s, "ok") > before[s] for s in CASE_CLOSED_HANDLERS))
    with platform.store("requests").read() as session:
        event = session.scalars(
            select(RequestsOutbox.body).where(
                RequestsOutbox.subject == case["id"], RequestsOutbox.type == "case.closed"
            )
        ).one()
    ok = {service: handled(platform, service, "ok") for service in CASE_CLOSED_HANDLERS}
    duplicates = {service: handled(platform, service, "duplicate") for service in CASE_CLOSED_HANDLERS}

    publisher = ConfirmingPublisher(platform.amqp_uri)
    try:
        publisher.publish(to_outgoing(event))
    finally:
        publisher.close()

    def counted():
        return {s: handled(platform, s, "duplicate") - duplicates[s] for s in CASE_CLOSED_HANDLERS}

    wait_for(lambda: all(counted().values()))
    assert counted() == {"volunteers": 1, "surveys": 1}
    assert {s: handled(platform, s, "ok") for s in CASE_CLOSED_HANDLERS} == ok


def test_the_gateway_serves_the_text_format_and_every_service_its_gauges(platform):
    response = get(platform, "gateway", "/metrics")
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    for service in ("requests", "volunteers", "notifications", "surveys"):
        text = scrape(platform, service)
        assert sample(text, "lianxin_dead_letters", service=service) is not None
        assert sample(text, "lianxin_outbox_backlog", service=service) is not None
        assert sample(text, "lianxin_outbox_oldest_seconds", service=service) is not None
    assert sample(response.text, "lianxin_sla_breaches_total") == 0
