"""Probe logic, the health server's routing and the metrics wiring, without services."""

import json
from types import SimpleNamespace

import pytest
from prometheus_client import REGISTRY
from werkzeug.test import Client

from services.common import metrics, outbox
from services.common.health import Answer, CheckFailed, Report, consumers_alive, render, run_checks, wsgi_app
from services.notifications import deliveries
from services.notifications.channels.base import Failed, RetryLater, Sent
from services.notifications.models import Delivery

pytestmark = pytest.mark.unit


def value(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def fail(message):
    def check():
        raise ConnectionError(message)

    return check


def not_declared():
    raise CheckFailed("queue q is not declared")


def test_every_check_runs_and_each_failure_is_named():
    ran = []
    report = run_checks(
        {
            "database": fail("connection refused"),
            "broker": lambda: ran.append("broker"),
            "topology": fail(""),
            "queues": not_declared,
        }
    )
    assert ran == ["broker"]
    assert report.checks == {
        "database": "ConnectionError: connection refused",
        "broker": "ok",
        "topology": "ConnectionError",
        "queues": "queue q is not declared",
    }
    assert not report.ok


def test_ready_is_200_with_the_checks_and_not_ready_is_a_503_problem():
    answer = render(Report({"database": "ok", "broker": "ok"}))
    assert (answer.status, answer.content_type) == (200, "application/json")
    assert json.loads(answer.body) == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}

    answer = render(Report({"database": "TimeoutError: no answer in 2s", "broker": "ok"}))
    assert (answer.status, answer.content_type) == (503, "application/problem+json")
    assert json.loads(answer.body) == {
        "type": "about:blank",
        "title": "Service unavailable",
        "status": 503,
        "detail": "failed: database",
        "checks": {"database": "TimeoutError: no answer in 2s", "broker": "ok"},
    }


def test_live_is_just_status_ok():
    answer = render(Report({"broker": "ok"}), show_checks=False)
    assert (answer.status, json.loads(answer.body)) == (200, {"status": "ok"})
    answer = render(Report({"broker": "ConnectionError: the broker connection is lost"}), show_checks=False)
    assert answer.status == 503
    assert json.loads(answer.body)["checks"] == {"broker": "ConnectionError: the broker connection is lost"}


class FakeEvent:
    def __init__(self, ready):
        self._ready = ready

    def ready(self):
        return self._ready


def queue_consumer(*, dead=False, ready=True, connected=(True,)):
    """The parts of a nameko QueueConsumer that liveness reads."""
    consumers = {
        i: SimpleNamespace(
            channel=SimpleNamespace(connection=SimpleNamespace(connected=up) if up is not None else None)
        )
        for i, up in enumerate(connected)
    }
    return SimpleNamespace(_gt=SimpleNamespace(dead=dead), _consumers_ready=FakeEvent(ready), _consumers=consumers)


def test_live_means_the_consumer_runs_on_an_open_connection():
    consumers_alive([queue_consumer()])
    cases = {
        "the consumer thread is not running": queue_consumer(dead=True),
        "not connected to the broker yet": queue_consumer(ready=False),
        "the broker connection is lost": queue_consumer(connected=(True, False)),
    }
    for message, consumer in cases.items():
        with pytest.raises(ConnectionError, match=message):
            consumers_alive([consumer])
    with pytest.raises(ConnectionError, match="the broker connection is lost"):
        consumers_alive([queue_consumer(connected=(None,))])  # the channel was closed
    with pytest.raises(ConnectionError, match="no broker consumer"):
        consumers_alive([])


class FakeProbes:
    def livez(self):
        return Answer(200, "application/json", b'{"status": "ok"}')

    def readyz(self):
        return Answer(503, "application/problem+json", b'{"status": 503}')

    def metrics(self):
        return Answer(200, "text/plain; version=0.0.4; charset=utf-8", b"lianxin_x 1.0\n")


def test_the_health_server_serves_three_routes_and_nothing_else():
    client = Client(wsgi_app(FakeProbes()))
    live = client.get("/livez")
    assert (live.status_code, live.get_json()) == (200, {"status": "ok"})
    assert client.get("/readyz").status_code == 503
    scraped = client.get("/metrics")
    assert (scraped.status_code, scraped.headers["Content-Type"], scraped.data) == (
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        b"lianxin_x 1.0\n",
    )
    assert client.get("/nope").status_code == 404
    assert client.post("/livez").status_code == 405


def test_every_is_due_once_per_period():
    hourly = metrics.Every(3600)
    assert [hourly.due(), hourly.due()] == [True, False]
    always = metrics.Every(0)
    assert [always.due(), always.due()] == [True, True]


class BacklogRelay:
    batch_size = 200

    def backlog(self):
        return 3, 12.5


def test_the_relay_loop_sets_the_outbox_gauges():
    loop = outbox.RelayLoop(BacklogRelay(), service="unit-relay")
    loop._report_backlog()
    assert value("lianxin_outbox_backlog", service="unit-relay") == 3
    assert value("lianxin_outbox_oldest_seconds", service="unit-relay") == 12.5


def test_a_duplicate_is_counted_once_and_marks_its_worker():
    worker_ctx = SimpleNamespace(service_name="unit-inbox")
    before = value("lianxin_events_handled_total", service="unit-inbox", event_type="case.closed", outcome="duplicate")
    assert not metrics.was_duplicate(worker_ctx)
    metrics.mark_duplicate(worker_ctx, "case.closed")
    assert metrics.was_duplicate(worker_ctx)
    after = value("lianxin_events_handled_total", service="unit-inbox", event_type="case.closed", outcome="duplicate")
    assert after - before == 1


def test_delivery_results_are_counted_by_channel_and_status():
    def count(status):
        return value("lianxin_notifications_total", channel="unit-sms", status=status)

    before = {status: count(status) for status in ("sent", "queued", "failed")}
    for result in (Sent("m-1"), RetryLater("throttled", 5), Failed("bad number")):
        delivery = Delivery(channel="unit-sms", attempts=0, outbound="text")
        deliveries.record_result(delivery, result, deliveries.utcnow())
    assert {status: count(status) - before[status] for status in before} == {"sent": 1, "queued": 1, "failed": 1}
