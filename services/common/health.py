"""Health probes and ``/metrics`` for a service, and the small HTTP server that serves them.

- ``/livez`` answers whether this process should be restarted: only the broker connection of
  the container's consumer counts. The database is left out on purpose, so a database blip
  never makes Kubernetes restart every pod at once.
- ``/readyz`` answers whether the service can do its work now: the database answers
  ``SELECT 1``, the broker accepts a connection and this service's event queues exist.
- ``/metrics`` is the Prometheus text exposition of the process registry.

Every service runs :class:`HealthServer`: the four without an HTTP server of their own on
``HEALTH_PORT``, the gateway on ``GATEWAY_METRICS_PORT``. The gateway answers ``/livez`` and
``/readyz`` on its public port too (its probes), but never ``/metrics``: route names, rates and
error counts are for the operators, not for anyone on the internet. The server listens on
``HEALTH_HOST``, 127.0.0.1 unless set (the Kubernetes manifests set 0.0.0.0 for the kubelet's
probes and Prometheus, which come through the pod's address).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import eventlet
import eventlet.wsgi
from amqp.exceptions import NotFound
from nameko.events import EventHandler
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from nameko.rpc import Rpc
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, REGISTRY, generate_latest
from sqlalchemy import func, select, text

from services.common import metrics, topology
from services.common.broker import connect
from services.common.config import DEFAULTS, configured
from services.common.database import database_of

log = logging.getLogger(__name__)

JSON = "application/json"
PROBLEM = "application/problem+json"
CHECK_TIMEOUT = 2.0  # seconds; below the probes' timeoutSeconds (3)
BROKER_CACHE_SECONDS = 5.0  # a probe every few seconds must not open a connection each time
DEAD_LETTER_SECONDS = 30.0


@dataclass(frozen=True)
class Report:
    """The result of each named check: ``"ok"`` or why it failed."""

    checks: dict[str, str]

    @property
    def ok(self) -> bool:
        return all(result == "ok" for result in self.checks.values())


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def run_checks(checks: Mapping[str, Callable[[], None]]) -> Report:
    """Run every check (each raises to fail); all of them run, so the answer names every failure."""
    results = {}
    for name, check in checks.items():
        try:
            check()
        except Exception as exc:
            results[name] = describe(exc)
        else:
            results[name] = "ok"
    return Report(results)


class CheckFailed(Exception):
    """A check failed for a reason already described (reported without a type name)."""


def describe(exc: BaseException) -> str:
    message = str(exc)
    if isinstance(exc, CheckFailed):
        return message[:300]
    return (f"{type(exc).__name__}: {message}" if message else type(exc).__name__)[:300]


def render(report: Report, show_checks: bool = True) -> Answer:
    """200 ``{"status": "ok"}`` (with the checks if asked), else a 503 problem naming the failures."""
    if report.ok:
        body: dict[str, Any] = {"status": "ok"}
        if show_checks:
            body["checks"] = report.checks
        return Answer(200, JSON, json.dumps(body).encode())
    failed = [name for name, result in report.checks.items() if result != "ok"]
    body = {
        "type": "about:blank",
        "title": "Service unavailable",
        "status": 503,
        "detail": "failed: " + ", ".join(failed),
        "checks": report.checks,
    }
    return Answer(503, PROBLEM, json.dumps(body, ensure_ascii=False).encode())


def consumers_alive(queue_consumers: Iterable[Any]) -> None:
    """Raise unless every nameko QueueConsumer runs and holds an open broker connection.

    Reads nameko 2.14's private state (``_gt``, ``_consumers_ready``, ``_consumers``): the
    consumer keeps its connection in a local variable, and each kombu consumer's channel is
    the only handle on it. After a connection loss those channels are closed until kombu
    reconnects and replaces the consumers.
    """
    found = False
    for queue_consumer in queue_consumers:
        found = True
        thread = queue_consumer._gt
        if thread is None or thread.dead:
            raise ConnectionError("the consumer thread is not running")
        if not queue_consumer._consumers_ready.ready():
            raise ConnectionError("not connected to the broker yet")
        for consumer in list(queue_consumer._consumers.values()):
            connection = getattr(consumer.channel, "connection", None)
            if connection is None or not connection.connected:
                raise ConnectionError("the broker connection is lost")
    if not found:
        raise ConnectionError("no broker consumer in this service")


class Probes:
    """The checks of one service container, and the answers of the three routes."""

    def __init__(self, container: Any) -> None:
        self.container = container
        self.service = container.service_name
        self.queues = [sub.queue_name for sub in topology.subscriptions_of(container.service_cls)]
        self._broker_every = metrics.Every(BROKER_CACHE_SECONDS)
        self._broker_state: tuple[str | None, str | None] | None = None
        self._dead_letters_every = metrics.Every(DEAD_LETTER_SECONDS)

    # -- the routes ---------------------------------------------------------------------------

    def livez(self) -> Answer:
        return render(run_checks({"broker": self.check_consumers}), show_checks=False)

    def readyz(self) -> Answer:
        checks = {"database": self.check_database, "broker": self.check_broker, "consumers": self.check_consumers}
        if self.queues:
            checks["topology"] = self.check_topology
        return render(run_checks(checks))

    def metrics(self) -> Answer:
        self.refresh_dead_letters()
        return Answer(200, CONTENT_TYPE_PLAIN_0_0_4, generate_latest(REGISTRY))

    # -- the checks ---------------------------------------------------------------------------

    def check_consumers(self) -> None:
        consumers_alive(ext for ext in self.container.extensions if isinstance(ext, QueueConsumer))

    def check_database(self) -> None:
        timeout = eventlet.Timeout(CHECK_TIMEOUT, TimeoutError(f"no answer in {CHECK_TIMEOUT:g}s"))
        with timeout, database_of(self.container).open().read() as session:
            session.execute(text("SELECT 1"))

    def check_broker(self) -> None:
        broker, _ = self.broker_state()
        if broker is not None:
            raise CheckFailed(broker)

    def check_topology(self) -> None:
        broker, topology_error = self.broker_state()
        if broker is not None:
            raise CheckFailed("unknown: the broker is unreachable")
        if topology_error is not None:
            raise CheckFailed(topology_error)

    def broker_state(self) -> tuple[str | None, str | None]:
        """(broker error, topology error), each None when fine; kept for a few seconds."""
        if self._broker_state is None or self._broker_every.due():
            self._broker_state = self._probe_broker()
        return self._broker_state

    def _probe_broker(self) -> tuple[str | None, str | None]:
        try:
            conn = connect(str(self.container.config["AMQP_URI"]), timeout=CHECK_TIMEOUT)
        except Exception as exc:
            return describe(exc), None
        try:
            channel = conn.channel()
            for queue in self.queues:
                try:
                    channel.queue_declare(queue, passive=True)
                except NotFound:  # it also closes the channel: report the first missing queue
                    return None, f"queue {queue} is not declared"
            return None, None
        except Exception as exc:
            return describe(exc), None
        finally:
            conn.release()

    def refresh_dead_letters(self) -> None:
        """Count unreplayed dead letters for the gauge, at most every 30 s (scrapes are frequent)."""
        if not self._dead_letters_every.due():
            return
        database = database_of(self.container)
        model = database.models[2]
        try:
            with database.open().read() as session:
                count = session.scalar(select(func.count()).select_from(model).where(model.replayed_at.is_(None)))
        except Exception as exc:  # /metrics must answer even while the database does not
            log.debug("dead-letter count unavailable: %s", exc)
            return
        metrics.DEAD_LETTERS.labels(self.service).set(count or 0)


class ConsumersLost(Exception):
    """The service's broker consumers stayed down: exit so the supervisor starts it afresh."""


class Health(DependencyProvider):
    """Gives workers the service's :class:`Probes`, times RPC and event-handler workers, and
    watches the broker consumers.

    nameko sometimes does not resubscribe a consumer after RabbitMQ restarts under load (seen in
    the broker-kill reliability run: the process lives, its RPC queue has no consumer). A
    process in that state is useless, so after ``CONSUMER_WATCHDOG_SECONDS`` of failing the
    liveness check it kills its container and exits non-zero; Kubernetes, compose and
    ``lianxin run`` restart it, and unacked messages are redelivered to the fresh process.
    """

    def setup(self) -> None:
        self.probes = Probes(self.container)
        self._started: dict[Any, float] = {}
        self._watching = False
        self._stopped = threading.Event()

    def start(self) -> None:
        grace = float(configured(self.container.config, "CONSUMER_WATCHDOG_SECONDS"))
        if grace > 0:
            self._watching = True
            self.container.spawn_managed_thread(lambda: self._watch(grace), identifier="consumer-watchdog")

    def _watch(self, grace: float) -> None:
        failing_since: float | None = None
        while self._watching and not self._stopped.wait(min(5.0, grace / 4)):
            try:
                self.probes.check_consumers()
                failing_since = None
            except Exception as exc:  # noqa: BLE001 - any failure counts
                failing_since = failing_since or time.monotonic()
                if time.monotonic() - failing_since >= grace and self._watching:
                    log.critical(
                        "%s: broker consumers down for %.0fs (%s); exiting to be restarted",
                        self.probes.service,
                        grace,
                        exc,
                    )
                    self._watching = False
                    # Raise, never call ``container.kill`` here: kill() kills every managed
                    # thread, this one included, and the GreenletExit it throws into itself
                    # aborts kill() before the container is marked dead, so the process
                    # lived on answering 500 (the broker-kill hang). An exception leaving a
                    # managed thread makes nameko kill the container from outside it.
                    raise ConsumersLost(str(exc)) from exc

    def stop(self) -> None:
        self._watching = False
        self._stopped.set()

    def kill(self) -> None:
        self._watching = False
        self._stopped.set()

    def get_dependency(self, worker_ctx: Any) -> Probes:
        return self.probes

    def worker_setup(self, worker_ctx: Any) -> None:
        self._started[worker_ctx] = time.monotonic()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = self._started.pop(worker_ctx, None)
        if started is None:
            return
        seconds = time.monotonic() - started
        entrypoint = worker_ctx.entrypoint
        if isinstance(entrypoint, Rpc):
            metrics.RPC_SECONDS.labels(self.probes.service, entrypoint.method_name).observe(seconds)
        elif isinstance(entrypoint, EventHandler):
            metrics.HANDLER_SECONDS.labels(self.probes.service, entrypoint.event_type).observe(seconds)

    def worker_teardown(self, worker_ctx: Any) -> None:
        self._started.pop(worker_ctx, None)


class HealthServer(Health):
    """:class:`Health` plus an HTTP server on ``HEALTH_HOST`` and the port setting ``port_setting``
    (``HEALTH_PORT``; the gateway's ``GATEWAY_METRICS_PORT``; 0: any free port).

    ``port`` is the port actually bound, once the container has started.
    """

    port: int | None = None

    def __init__(self, port_setting: str = "HEALTH_PORT", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.port_setting = port_setting

    def setup(self) -> None:
        super().setup()
        self._socket: Any = None
        self._thread: Any = None

    def start(self) -> None:
        super().start()
        config = self.container.config
        host = str(config.get("HEALTH_HOST") or DEFAULTS["HEALTH_HOST"])
        self._socket = eventlet.listen((host, int(config.get(self.port_setting) or 0)))
        self.port = self._socket.getsockname()[1]
        self._thread = self.container.spawn_managed_thread(
            lambda: eventlet.wsgi.server(
                self._socket, wsgi_app(self.probes), log=log, log_output=False, keepalive=False
            ),
            identifier="health-server",
        )
        log.info("%s: /livez /readyz /metrics on %s:%d", self.container.service_name, host, self.port)

    def stop(self) -> None:
        super().stop()
        self._shutdown()

    def kill(self) -> None:
        super().kill()
        self._shutdown()

    def _shutdown(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.kill()
        sock, self._socket = self._socket, None
        if sock is not None:
            sock.close()


def wsgi_app(probes: Probes) -> Callable:
    """A plain WSGI app for the three routes: no framework for three GETs."""
    routes: dict[str, Callable[[], Answer]] = {
        "/livez": probes.livez,
        "/readyz": probes.readyz,
        "/metrics": probes.metrics,
    }

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        route = routes.get(environ.get("PATH_INFO", ""))
        if route is None:
            answer = Answer(404, JSON, b'{"status": "not found"}')
        elif environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            answer = Answer(405, JSON, b'{"status": "method not allowed"}')
        else:
            answer = route()
        reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}
        headers = [("Content-Type", answer.content_type), ("Content-Length", str(len(answer.body)))]
        start_response(f"{answer.status} {reason.get(answer.status, '')}".strip(), headers)
        return [answer.body] if environ.get("REQUEST_METHOD") != "HEAD" else []

    return app
