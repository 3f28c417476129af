"""`make reliability`: close N cases at a steady rate while a fault hits, then count against a ledger.

The run starts its own RabbitMQ node (bench.rabbit_node) and, with ``--database postgres``, its
own PostgreSQL cluster (bench.pg_cluster), and stops both at the end; the machine's broker and
database are never touched (``postgres-stop`` stops only the run's own cluster). For each fault:
a fresh stack (services as separate processes, a fresh vhost on that node, private databases),
N cases prepared up to `resolved`, then closed at RATE per second while the fault is injected
a third of the way in. The checker then counts, per closed case, visits, surveys and survey
notifications (each must be exactly 1) and reports lost / duplicated / unexpected, and the
recovery time (from the end of the fault until every closed case is complete). The counts are
taken after a settle period longer than the longest retry delay, so a late duplicate shows.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bench import faults
from bench.ledger import last_effects, recovery_seconds, tally
from bench.pg_cluster import PgCluster
from bench.poison import FILE_SETTING
from bench.rabbit_node import RabbitNode
from bench.stack import close, prepare, seed
from services.common.config import SERVICES
from services.common.db import utcnow
from tests.support.infra import service_processes, wait_for

#: CI's bounded run on SQLite: the broker killed, each domain service killed, poison, duplicates.
QUICK = ("broker-kill", "kill-requests", "kill-volunteers", "kill-surveys", "kill-notifications", "poison", "duplicate")
#: and on PostgreSQL (the run's own cluster): what the SQLite run leaves out — a SIGTERM, two
#: competing instances of every domain service, the database stopped — with the broker and the
#: notifications service killed again. Both together stay within about 12 minutes of CI.
QUICK_POSTGRES = ("broker-kill", "kill-notifications", "sigterm-requests", "two-instances", "postgres-stop")
FULL = (
    *QUICK,
    "kill-gateway",
    *(f"sigterm-{s}" for s in SERVICES),
    "two-instances",
    "postgres-stop",  # only on the run's own PostgreSQL cluster (--database postgres)
    "slow-broker",
)
RETRY_DELAYS = "0.5,1,2"  # short, so the settle period stays short
SETTLE_SECONDS = max(float(d) for d in RETRY_DELAYS.split(",")) + 1.0  # a late retry's duplicate shows by then


def drive(
    client, cases: list[str], rate: float, closed: set[str], started: threading.Event,
    closed_at: dict[str, datetime],
) -> None:  # fmt: skip
    """Close every case, RATE per second, retrying through outages until each close is accepted."""
    interval = 1.0 / rate
    next_at = time.monotonic()
    for n, case_id in enumerate(cases):
        if n == len(cases) // 3:
            started.set()
        if close(client, case_id):
            closed.add(case_id)
            closed_at[case_id] = utcnow()
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))
    started.set()


def run_fault(
    name: str, n: int, rate: float, postgres_url: str | None, workdir: Path, node: RabbitNode,
    cluster: PgCluster | None = None,
) -> dict:  # fmt: skip
    inject: Callable = faults.FAULTS[name]
    settings = {
        "RETRY_DELAYS": RETRY_DELAYS,
        "DLQ_MAX_ATTEMPTS": "4",
        "CONSUMER_WATCHDOG_SECONDS": "20",
        FILE_SETTING: str(workdir / f"{name}.poison"),  # read by bench.faulty_service only
    }
    with node.vhost() as amqp_uri, service_processes(workdir / name, postgres_url, amqp_uri, **settings) as lx:
        if name in faults.FAULTY_HANDLERS:
            lx.command = faults.FAULTY_SERVICE
        instances = 2 if name == "two-instances" else 1
        for service in SERVICES:
            lx.start(service, instances if service != "gateway" else 1)
        client, tenant, estate = seed(lx)
        cases = prepare(client, estate, n)
        closed: set[str] = set()
        closed_at: dict[str, datetime] = {}
        started = threading.Event()
        context = faults.Context(
            lx, tenant, estate, client, expected=set(cases), closed=closed, broker=node, database=cluster
        )
        if name in faults.BEGIN:
            faults.BEGIN[name](context)
        driver = threading.Thread(target=drive, args=(client, cases, rate, closed, started, closed_at), daemon=True)
        load_started = time.monotonic()
        driver.start()
        started.wait()
        inject(context)
        fault_end = utcnow()
        driver.join(timeout=600)
        load_s = time.monotonic() - load_started
        context.after_load()
        try:
            wait_for(lambda: tally(lx.urls, tenant, closed).complete, timeout=180, interval=0.5)
        except AssertionError:
            pass
        time.sleep(SETTLE_SECONDS)  # late duplicates would show now
        result = tally(lx.urls, tenant, closed)
        recovery = recovery_seconds(fault_end, closed_at, last_effects(lx.urls, tenant))
        context.end()
        row = {
            "fault": name,
            "closed": result.closed,
            "lost": result.lost + len(context.expected - closed),
            "duplicated": result.duplicated,
            "unexpected": result.unexpected,
            "recovery_s": round(recovery, 1),
            "load_s": round(load_s, 1),
        }
        row |= context.report()
        if lx.exits:
            restarted = ", ".join(f"{service} (exit {code})" for service, code in lx.exits)
            row["notes"] = "; ".join(filter(None, [row["notes"], f"restarted by the supervisor: {restarted}"]))
        return row


def table(rows: list[dict]) -> str:
    width = max([len("fault"), *(len(r["fault"]) for r in rows)])
    head = (
        f"{'fault':<{width}} {'closed':>6} {'lost':>5} {'duplicated':>10} {'unexpected':>10} {'recovery_s':>10}"
        f" {'load_s':>6}  notes"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['fault']:<{width}} {r['closed']:>6} {r['lost']:>5} {r['duplicated']:>10} "
            f"{r['unexpected']:>10} {r['recovery_s']:>10} {r.get('load_s', ''):>6}  {r.get('notes', '')}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reliability", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="bounded form: 200 cases, the CI faults")
    parser.add_argument("--cases", type=int, default=None)
    parser.add_argument("--rate", type=float, default=None, help="closures per second")
    parser.add_argument("--faults", default=None, help=f"comma list from: {', '.join(FULL)}")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="postgres: the services' databases on a PostgreSQL cluster the run starts and owns",
    )
    parser.add_argument("--postgres", default=None, help="a PostgreSQL server URL to use instead (no postgres-stop)")
    parser.add_argument("--report", default="reliability-report.json")
    args = parser.parse_args(argv)
    n = args.cases or (200 if args.quick else 2000)
    rate = args.rate or (25.0 if args.quick else 40.0)
    own_postgres = args.database == "postgres" and not args.postgres
    quick = QUICK_POSTGRES if args.database == "postgres" or args.postgres else QUICK
    chosen = args.faults.split(",") if args.faults else list(quick if args.quick else FULL)
    if not own_postgres:  # a database the run does not own is never stopped
        chosen = [f for f in chosen if f != "postgres-stop"]
    workdir = Path(tempfile.mkdtemp(prefix="lianxin-reliability-"))
    rows = []
    node = RabbitNode(workdir / "rabbitmq")
    cluster = PgCluster(workdir / "postgres") if own_postgres else None
    try:
        node.start()
        print(f"== own RabbitMQ node {node.name} at {node.uri} (pid {node.pid}, up in {node.started_in} s)", flush=True)
        postgres_url = args.postgres
        if cluster is not None:
            cluster.start()
            postgres_url = cluster.url
            print(f"== own PostgreSQL cluster at {cluster.url} (pid {cluster.pid}, up in {cluster.started_in} s)")
        print(f"== database: {'PostgreSQL' if postgres_url else 'SQLite'}", flush=True)
        for name in chosen:
            print(f"== {name}: {n} cases at {rate}/s", flush=True)
            rows.append(run_fault(name, n, rate, postgres_url, workdir, node, cluster))
            print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    finally:
        node.stop()
        if cluster is not None:
            cluster.drop()
        Path(args.report).write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
    bad = [r for r in rows if r["lost"] or r["duplicated"] or r["unexpected"] or r.get("failed")]
    if bad:
        print(f"service logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(table(rows))
    print(f"\n{len(rows)} faults, {len(bad)} with losses, duplicates or failed checks; report: {args.report}")
    return 1 if bad or not rows else 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
