"""The faults a reliability run injects. Each targets this machine's own services only."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable

from kombu import Queue
from sqlalchemy import select

from services.common.broker import ConfirmingPublisher, Outgoing, connect
from services.common.config import SERVICES
from services.common.db import Store, make_engine
from services.common.envelope import make_event
from services.common.testing import ServiceProcesses
from services.platform import ensure_broker


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=False, capture_output=True, timeout=120)


def ensure_broker_running() -> None:
    """Leave the machine's RabbitMQ as we found it: running, no memory alarm."""
    ensure_broker()
    sh("rabbitmqctl", "set_vm_memory_high_watermark", "0.4")


class Context:
    """What a fault may touch, and what it reports besides the ledger."""

    def __init__(self, lx: ServiceProcesses, tenant: str, estate: str) -> None:
        self.lx, self.tenant, self.estate = lx, tenant, estate
        self.notes: list[str] = []
        self.failed = False
        self.on_end: list[Callable[[], None]] = []
        self.on_report: list[Callable[[], None]] = []

    def end(self) -> None:
        for hook in self.on_end:
            hook()
        for hook in self.on_report:
            hook()

    def report(self) -> dict:
        return {"notes": "; ".join(self.notes), **({"failed": True} if self.failed else {})}


def broker_kill(ctx: Context) -> None:
    sh("pkill", "-9", "-f", "beam.smp")
    ctx.notes.append("RabbitMQ kill -9, restarted after 10 s")
    time.sleep(10)
    ensure_broker_running()


def kill(service: str, sig: int) -> Callable[[Context], None]:
    def inject(ctx: Context) -> None:
        ctx.lx.kill(service, sig)
        time.sleep(1.0)
        ctx.lx.start(service)

    return inject


def poison(ctx: Context) -> None:
    """A case.closed that every consumer fails on (no estate): retried, then dead-lettered."""
    event = make_event(
        source_service="requests",
        type="case.closed",
        subject="poison-case",
        tenant=ctx.tenant,
        data={
            "case_id": "poison-case",
            "estate_id": None,
            "category": "repair",
            "title": "毒消息",
            "status": "closed",
            "reporter": {"name": "x", "phone": "+8613900000000", "household": "1-1-101"},
        },
    )
    publisher = ConfirmingPublisher(ctx.lx.env["AMQP_URI"])
    body = json.dumps(event, ensure_ascii=False).encode()
    publisher.publish(Outgoing("requests.events", "case.closed", body, event["id"]))
    publisher.close()

    def dead_letter_attempts(service: str) -> list[int]:
        model = __import__(f"services.{service}.models", fromlist=["DeadLetter"]).DeadLetter
        store = Store(make_engine(ctx.lx.urls[service]))
        with store.read() as session:
            attempts = session.scalars(select(model.attempts).where(model.event_id == event["id"])).all()
        store.engine.dispose()
        return list(attempts)

    def check() -> None:
        expected = int(ctx.lx.env.get("DLQ_MAX_ATTEMPTS", "6"))
        for service in ("volunteers", "surveys"):
            deadline = time.monotonic() + 60
            while not (attempts := dead_letter_attempts(service)) and time.monotonic() < deadline:
                time.sleep(0.5)
            ok = attempts == [expected]
            ctx.failed |= not ok
            ctx.notes.append(
                f"poison in {service}: dead-lettered after {attempts} attempts"
                if attempts
                else f"poison in {service}: NOT dead-lettered"
            )

    ctx.on_report.append(check)


def duplicate(ctx: Context) -> None:
    """Nothing to inject at the fault point: the duplicator runs for the whole load."""


def start_duplicator(ctx: Context) -> None:
    """Republish every event once more, as a broker redelivering everything would."""
    stop = threading.Event()
    copies = [0]

    def run() -> None:
        conn = connect(ctx.lx.env["AMQP_URI"])
        channel = conn.channel()
        queue = Queue("reliability.duplicator", durable=False, auto_delete=True)
        queue(channel).declare()
        for service in SERVICES:
            channel.queue_bind(queue.name, f"{service}.events", "#")
        publisher = ConfirmingPublisher(ctx.lx.env["AMQP_URI"])

        def on_message(body, message):  # noqa: ANN001
            if not (message.headers or {}).get("x-reliability-copy"):
                raw = message.body if isinstance(message.body, bytes) else str(message.body).encode()
                publisher.publish(
                    Outgoing(
                        message.delivery_info["exchange"],
                        message.delivery_info["routing_key"],
                        raw,
                        message.properties.get("message_id") or "copy",
                        dict(message.headers or {}) | {"x-reliability-copy": 1},
                    )
                )
                copies[0] += 1
            message.ack()

        with conn.Consumer(queue, callbacks=[on_message], accept=["json"]):
            while not stop.is_set():
                try:
                    conn.drain_events(timeout=0.5)
                except TimeoutError:
                    continue
                except OSError:
                    continue
        publisher.close()
        conn.release()

    thread = threading.Thread(target=run, daemon=True)
    ctx.on_end.append(lambda: (stop.set(), thread.join(10), ctx.notes.append(f"{copies[0]} events published twice")))
    thread.start()
    time.sleep(1.0)


def postgres_stop(ctx: Context) -> None:
    cluster = subprocess.run(["bash", "-c", "ls /etc/postgresql"], capture_output=True, text=True).stdout.strip()
    sh("pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "stop", "-m", "fast")
    time.sleep(20)
    sh("pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "start")
    ctx.notes.append("PostgreSQL stopped 20 s")


def slow_broker(ctx: Context) -> None:
    sh("rabbitmqctl", "set_vm_memory_high_watermark", "0.0001")
    ctx.notes.append("memory alarm 15 s (publishers blocked)")
    time.sleep(15)
    sh("rabbitmqctl", "set_vm_memory_high_watermark", "0.4")


def nothing(ctx: Context) -> None:
    ctx.notes.append("2 instances of every domain service")


FAULTS: dict[str, Callable[[Context], None]] = {
    "broker-kill": broker_kill,
    "poison": poison,
    "duplicate": duplicate,
    "two-instances": nothing,
    "postgres-stop": postgres_stop,
    "slow-broker": slow_broker,
    **{f"kill-{s}": kill(s, signal.SIGKILL) for s in SERVICES},
    **{f"sigterm-{s}": kill(s, signal.SIGTERM) for s in SERVICES},
}
BEGIN: dict[str, Callable[[Context], None]] = {"duplicate": start_duplicator}
