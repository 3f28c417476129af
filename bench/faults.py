"""The faults a reliability run injects. Each targets the run's own processes only: its service
processes, its own RabbitMQ node (bench.rabbit_node) and, on PostgreSQL, its own cluster
(bench.pg_cluster) — never the machine's broker or database.

A fault checks that it took effect (``Context.check``); one whose effect is not observed marks its
row failed, so a fault that silently did nothing cannot pass as survived."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from kombu import Queue
from sqlalchemy import select

from bench.pg_cluster import PgCluster
from bench.poison import FILE_SETTING, MARK
from bench.rabbit_node import RabbitNode
from bench.stack import Client, close, prepare
from services.common.broker import ConfirmingPublisher, Outgoing, connect
from services.common.config import SERVICES
from services.common.db import Store, make_engine
from tests.support.infra import ServiceProcesses, wait_for


class Context:
    """What a fault may touch, and what it reports besides the ledger.

    ``expected`` is every case the run closes and ``closed`` those whose close was accepted; a
    fault that closes cases of its own adds them to both, so the ledger checks them too.
    """

    def __init__(
        self,
        lx: ServiceProcesses,
        tenant: str,
        estate: str,
        client: Client,
        expected: set[str],
        closed: set[str],
        broker: RabbitNode | None = None,
        database: PgCluster | None = None,
    ) -> None:
        self.lx, self.tenant, self.estate, self.client = lx, tenant, estate, client
        self.broker = broker  # the run's own RabbitMQ node, which the stack uses
        self.database = database  # the run's own PostgreSQL cluster, when the stack runs on one
        self.expected, self.closed = expected, closed
        self.notes: list[str] = []
        self.failed = False
        self.on_after_load: list[Callable[[], None]] = []
        self.on_end: list[Callable[[], None]] = []
        self.on_report: list[Callable[[], None]] = []

    def after_load(self) -> None:
        """Once the driver has closed every case, before the ledger waits for completion."""
        for hook in self.on_after_load:
            hook()

    def end(self) -> None:
        for hook in self.on_end:
            hook()
        for hook in self.on_report:
            hook()

    def check(self, ok: bool, note: str) -> None:
        self.failed |= not ok
        self.notes.append(note if ok else f"FAILED: {note}")

    def report(self) -> dict:
        return {"notes": "; ".join(self.notes), **({"failed": True} if self.failed else {})}


def own_broker(ctx: Context) -> RabbitNode | None:
    if ctx.broker is None:
        ctx.check(False, "no broker of the run's own to inject the fault into: nothing done")
    return ctx.broker


def broker_kill(ctx: Context) -> None:
    """kill -9 the run's own RabbitMQ node, 10 s down, then start it again (a new OS process)."""
    if (node := own_broker(ctx)) is None:
        return
    old = node.kill()
    ctx.check(old is not None and not node.reachable(), f"RabbitMQ (own node) kill -9 pid {old}, unreachable")
    time.sleep(10)
    try:
        new = node.restart()
    except RuntimeError as error:
        ctx.check(False, f"RabbitMQ (own node) did not start again: {error}")
        return
    ctx.check(new != old and node.reachable(), f"restarted after 10 s as pid {new} in {node.started_in} s, reachable")


def kill(service: str, sig: int) -> Callable[[Context], None]:
    def inject(ctx: Context) -> None:
        name = signal.Signals(sig).name
        before = [p.pid for p in ctx.lx.live(service)]
        codes = ctx.lx.kill(service, sig)
        gone = before and len(codes) == len(before) and not any(p.pid in before for p in ctx.lx.live(service))
        ctx.check(bool(gone), f"{service} {name} pid {before}, exit {codes}")
        time.sleep(1.0)
        ctx.lx.start(service)
        after = [p.pid for p in ctx.lx.live(service)]
        ctx.check(bool(after) and not set(after) & set(before), f"started again after 1 s as pid {after}")

    return inject


def poison(ctx: Context) -> None:
    """One case whose follow-up handlers always fail (bench.faulty_service): retried with backoff,
    dead-lettered after DLQ_MAX_ATTEMPTS while the other cases flow; then the fault is removed,
    ``lianxin dlq replay --all`` sends the letters back, and the ledger holds that case to
    exactly one visit, survey and notification like every other."""
    poison_file = Path(ctx.lx.env[FILE_SETTING])
    (case_id,) = prepare(ctx.client, ctx.estate, 1, first=len(ctx.expected))
    poison_file.write_text(case_id)
    ctx.expected.add(case_id)
    if close(ctx.client, case_id):
        ctx.closed.add(case_id)
    expected = int(ctx.lx.env.get("DLQ_MAX_ATTEMPTS", "6"))
    services = ("volunteers", "surveys")

    def letters(service: str) -> list[tuple[int, datetime | None]]:
        model = __import__(f"services.{service}.models", fromlist=["DeadLetter"]).DeadLetter
        store = Store(make_engine(ctx.lx.urls[service]))
        try:
            with store.read() as session:
                rows = session.execute(
                    select(model.attempts, model.replayed_at).where(model.body.contains(case_id))
                ).all()
        finally:
            store.engine.dispose()
        return [(attempts, replayed_at) for attempts, replayed_at in rows]

    def remove_and_replay() -> None:
        delays = [float(d) for d in ctx.lx.env["RETRY_DELAYS"].split(",")][: expected - 1]
        for service in services:
            deadline = time.monotonic() + 60
            while not (found := letters(service)) and time.monotonic() < deadline:
                time.sleep(0.5)
            attempts = [a for a, _ in found]
            ctx.check(attempts == [expected], f"poison in {service}: dead-lettered after {attempts} attempts")
            # No hot loop: the handler ran once per attempt, each retry after at least its delay.
            seen = deliveries(ctx.lx.workdir / f"{service}.log", case_id)
            gaps = [round(b - a, 1) for a, b in zip(seen, seen[1:], strict=False)]
            ctx.check(
                len(seen) == expected and all(g >= d for g, d in zip(gaps, delays, strict=False)),
                f"{service} handled it {len(seen)} times, {gaps} s apart (delays {delays})",
            )
        poison_file.write_text("")  # the fault is removed
        replayed = ctx.lx.cli("dlq", "replay", "--all").strip()
        ctx.check(replayed == f"replayed {len(services)} dead letters", f"after the fault: {replayed}")

    def check_replayed() -> None:
        for service in services:
            found = letters(service)
            ctx.check(
                len(found) == 1 and found[0][1] is not None,
                f"dead letter in {service} marked replayed" if found else f"no dead letter in {service}",
            )

    ctx.on_after_load.append(remove_and_replay)
    ctx.on_report.append(check_replayed)


def deliveries(log: Path, subject: str) -> list[float]:
    """When bench.faulty_service failed a delivery of ``subject``, from a service's log."""
    stamps = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if f"{MARK} {subject}" in line:
            stamps.append(datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp())
    return stamps


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
    """Fast shutdown of the run's own PostgreSQL cluster, 15 s down, then start it again."""
    cluster = ctx.database
    if cluster is None:
        ctx.check(False, "no PostgreSQL cluster of the run's own (run with --database postgres): nothing done")
        return
    old = cluster.stop()
    ctx.check(not cluster.reachable(), f"PostgreSQL (own cluster) stopped, pid {old}, refusing connections")
    time.sleep(15)
    cluster.start()
    new = cluster.pid
    ctx.check(
        new is not None and new != old and cluster.reachable(),
        f"started again after 15 s as pid {new} in {cluster.started_in} s, accepting connections",
    )


def slow_broker(ctx: Context) -> None:
    """A memory alarm on the run's own node for 15 s: every publisher blocked, then released."""
    if (node := own_broker(ctx)) is None:
        return
    try:
        node.set_memory_alarm(True)
        raised = wait_for(node.alarms, timeout=10, interval=0.5)
    except (AssertionError, subprocess.SubprocessError):
        raised = []
    ctx.check("memory" in raised, f"memory alarm on the own node: {raised or 'not raised'}")
    time.sleep(15)
    try:
        node.set_memory_alarm(False)
        wait_for(lambda: not node.alarms(), timeout=10, interval=0.5)
        cleared = True
    except (AssertionError, subprocess.SubprocessError):
        cleared = False
    ctx.check(cleared, f"cleared after 15 s (watermark back to the node's {node.watermark})")


def nothing(ctx: Context) -> None:
    ctx.notes.append("load condition: 2 instances of every domain service (no fault injected)")


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
FAULTY_HANDLERS = {"poison"}  # faults whose services run under bench.faulty_service
FAULTY_SERVICE = [sys.executable, "-m", "bench.faulty_service"]
