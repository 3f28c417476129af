"""Every Prometheus metric of the platform, in one module.

Each service runs in its own process, so prometheus_client's default registry is that
service's registry: ``/metrics`` exposes it as is. Names and labels live here only, so a
dashboard never has to guess what a service calls a thing. Labels stay low-cardinality:
service, event type, RPC method, route *rule* and status; never an id or a raw path.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# The ``*_created`` series double every counter for no use on these dashboards.
disable_created_metrics()

EVENTS_HANDLED = Counter(
    "lianxin_events_handled_total",
    "Events taken off a queue by a handler, by outcome (ok, duplicate, retry, dead_lettered).",
    ["service", "event_type", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "lianxin_handler_seconds",
    "Time an event handler worker took, its ack or retry included.",
    ["service", "event_type"],
)
RPC_SECONDS = Histogram(
    "lianxin_rpc_seconds",
    "Time an RPC method took in the service that answers it.",
    ["service", "method"],
)
HTTP_REQUESTS = Counter(
    "lianxin_http_requests_total",
    "HTTP requests answered by the gateway, by route rule and status.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "lianxin_http_seconds",
    "Time the gateway took to answer, by route rule.",
    ["route"],
)
OUTBOX_BACKLOG = Gauge(
    "lianxin_outbox_backlog",
    "Outbox rows not yet published to the broker.",
    ["service"],
)
OUTBOX_OLDEST_SECONDS = Gauge(
    "lianxin_outbox_oldest_seconds",
    "Age of the oldest unpublished outbox row (0 when there is none).",
    ["service"],
)
DEAD_LETTERS = Gauge(
    "lianxin_dead_letters",
    "Dead letters stored and not yet replayed.",
    ["service"],
)
NOTIFICATIONS = Counter(
    "lianxin_notifications_total",
    "Notification delivery results, by channel and resulting status.",
    ["channel", "status"],
)
SLA_BREACHES = Counter(
    "lianxin_sla_breaches_total",
    "Cases that missed their SLA (declared for the dashboards; nothing emits it yet).",
)

# Set on a nameko WorkerContext when the inbox found its event already applied, so the
# entrypoint counts that message once, as a duplicate, and not also as ok.
DUPLICATE_MARK = "lianxin_duplicate"


def count_event(service: str, event_type: str, outcome: str) -> None:
    EVENTS_HANDLED.labels(service, event_type, outcome).inc()


def mark_duplicate(worker_ctx: object, event_type: str) -> None:
    """Count a redelivered event as a duplicate and tell the entrypoint not to count it again."""
    count_event(worker_ctx.service_name, event_type, "duplicate")  # type: ignore[attr-defined]
    setattr(worker_ctx, DUPLICATE_MARK, True)


def was_duplicate(worker_ctx: object) -> bool:
    return bool(getattr(worker_ctx, DUPLICATE_MARK, False))


class Every:
    """True at most once per ``seconds``: keeps the gauges' database queries cheap."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: float | None = None

    def due(self) -> bool:
        now = time.monotonic()
        if self._last is not None and now - self._last < self.seconds:
            return False
        self._last = now
        return True
