"""`make bench`: the platform's performance, with the broker's own limit measured beside it.

Starts the five services as separate processes (private RabbitMQ vhost and databases; SQLite
by default, ``--postgres`` for PostgreSQL), measures the broker baseline, then the closed
loop's latency at a fixed rate and its sustained throughput, case submissions over HTTP, and
a broadcast; then, on PostgreSQL, listing cases at a million rows and survey statistics at a
million answers; and the workbench queue at 100,000 cases of a company, on PostgreSQL and SQLite.
Prints a table, writes bench/results.json and a copy under bench/results/.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.perf import api, baseline, broadcast, loop, queue, queue_stack, report
from bench.perf.rss import PeakRss
from bench.stack import Client, seed
from services.common.config import SERVICES
from tests.support.infra import ServiceProcesses, service_processes, wait_for

ROOT = Path(__file__).resolve().parent.parent
PHASES = ("baseline", "latency", "loop", "api", "broadcast", "list", "stats", "queue")
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Sizes:
    """How long and how big each measurement is."""

    broker_messages: int
    hop_events: int
    warmup_s: float
    loop_s: float
    loop_clients: int
    latency_s: float
    latency_rate: float
    post_s: float
    post_clients: int
    households: int
    list_rows: int
    list_requests: int
    answers: int
    queue_cases: int  # the measured company's; another company has as many
    queue_requests: int  # per filter combination, after queue_warmup unmeasured ones
    queue_warmup: int


FULL = Sizes(50_000, 3_000, 10, 60, 16, 30, 100, 20, 32, 10_000, 1_000_000, 500, 1_000_000, 100_000, 200, 10)
QUICK = Sizes(20_000, 1_000, 3, 10, 16, 10, 100, 5, 32, 2_000, 100_000, 200, 100_000, 10_000, 20, 3)


class Results:
    """The figures measured so far, why any is missing, and the supporting details."""

    def __init__(self) -> None:
        self.measured: dict[str, float | None] = {}
        self.notes: dict[str, str] = {}
        self.details: dict[str, object] = {}

    def add(self, phase: str, outcome: dict) -> None:
        outcome = dict(outcome)
        if "details" in outcome:
            self.details[phase] = outcome.pop("details")
        if "note" in outcome:
            self.notes[phase] = outcome.pop("note")
        self.measured |= outcome
        print(f"   {phase}: {json.dumps(outcome)} {json.dumps(self.details.get(phase, {}), default=str)}", flush=True)

    def attempt(self, phase: str, keys: tuple[str, ...], measure: Callable[[], dict]) -> None:
        """Run one measurement; a failure leaves its figures null with the reason, and the run goes on."""
        print(f"== {phase}", flush=True)
        started = time.monotonic()
        try:
            self.add(phase, measure())
        except Exception as exc:
            traceback.print_exc()
            self.notes[phase] = f"failed: {type(exc).__name__}: {exc}"[:300]
            self.measured |= {key: None for key in keys}
        print(f"   ({time.monotonic() - started:.0f}s)", flush=True)


def tenant_key(client: Client) -> str:
    return client.session.headers["Authorization"].removeprefix("Bearer ")


def service_pids(lx: ServiceProcesses) -> dict[str, list[int]]:
    return {name: [p.pid for p in lx.live(name)] for name in SERVICES}


def sample_rss(lx: ServiceProcesses, peaks: PeakRss, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        peaks.sample(service_pids(lx))


def restart_with(lx: ServiceProcesses, name: str, settings: dict[str, str]) -> None:
    """Restart one service with extra settings (SIGTERM: it finishes in-flight work first)."""
    lx.env = lx.env | settings
    lx.kill(name, signal.SIGTERM)
    lx.start(name)
    wait_for(lambda: _live(lx, name), timeout=60, interval=0.5)


def _live(lx: ServiceProcesses, name: str) -> bool:
    import requests as http

    try:
        return http.get(f"http://127.0.0.1:{lx.health_ports[name]}/readyz", timeout=1).status_code == 200
    except http.RequestException:
        return False


def run_stack(args: argparse.Namespace, sizes: Sizes, results: Results, workdir: Path) -> None:
    """Everything measured on the full platform: baseline, loop, API submissions, broadcast."""
    phases = set(args.only)
    stack_phases = phases & {"baseline", "latency", "loop", "api", "broadcast"}
    if not stack_phases:
        return
    pg = args.pg_url if args.postgres else None
    peaks = PeakRss()
    # Under load a close may wait its turn for longer than the test stack's 5 s RPC timeout.
    with service_processes(workdir / "stack", pg, RPC_TIMEOUT="30") as lx:
        if "baseline" in phases:
            results.attempt(
                "baseline",
                ("raw_kombu_publish_per_s", "raw_kombu_consume_per_s", "nameko_hop_per_s"),
                lambda: baseline.measure(lx.env["AMQP_URI"], sizes.broker_messages, sizes.hop_events),
            )
        if not stack_phases - {"baseline"}:
            return
        for name in SERVICES:
            lx.start(name)
        stop = threading.Event()
        threading.Thread(target=sample_rss, args=(lx, peaks, stop), daemon=True).start()
        try:
            client, tenant, estate = seed(lx)
            key = tenant_key(client)
            loader = loop.Loader(lx.urls["requests"], tenant, estate)
            done = loop.Completions(lx.urls, tenant)
            try:
                if phases & {"latency", "loop"}:
                    print("== warm-up", flush=True)
                    loop.throughput(lx.base, key, loader, done, 1, sizes.warmup_s, sizes.loop_clients, 4000)
                if "latency" in phases:
                    results.attempt(
                        "latency",
                        ("close_to_survey_p50_ms", "close_to_survey_p99_ms"),
                        lambda: loop.latency(lx.base, key, loader, done, sizes.latency_rate, sizes.latency_s),
                    )
                if "loop" in phases:
                    most = int(800 * (sizes.warmup_s + sizes.loop_s))
                    results.attempt(
                        "loop",
                        ("closures_per_s",),
                        lambda: loop.throughput(
                            lx.base,
                            key,
                            loader,
                            done,
                            sizes.warmup_s,
                            sizes.loop_s,
                            sizes.loop_clients,
                            most,
                            pids=lambda: service_pids(lx),
                        ),
                    )
            finally:
                loader.close()
                done.close()
            if "api" in phases:
                results.attempt(
                    "api",
                    ("post_cases_rps",),
                    lambda: api.post_cases(lx.base, key, estate, sizes.post_clients, sizes.post_s),
                )
            peaks.sample(service_pids(lx))
            if "broadcast" in phases:
                results.attempt("broadcast", ("broadcast_10k_s",), lambda: run_broadcast(lx, key, estate, sizes))
            peaks.sample(service_pids(lx))
        finally:
            stop.set()
    results.measured["max_service_rss_mb"] = peaks.max_mb()
    results.details["rss_mb"] = {name: round(mb, 1) for name, mb in peaks.peaks.items()}


def run_broadcast(lx: ServiceProcesses, key: str, estate: str, sizes: Sizes) -> dict:
    provider = broadcast.FakeSmsProvider()
    try:
        restart_with(lx, "notifications", broadcast.sms_settings(provider.port))
        outcome = broadcast.measure(lx.base, key, estate, sizes.households, provider, timeout=300)
    finally:
        provider.close()
    if sizes.households != 10_000 and outcome.get("broadcast_10k_s") is not None:
        seconds = outcome.pop("broadcast_10k_s")
        outcome["broadcast_10k_s"] = None
        outcome["note"] = f"quick run: {sizes.households} households took {seconds:.2f}s (not the 10k figure)"
    return outcome


def postgres_reachable(url: str) -> bool:
    try:
        engine = create_engine(make_url(url).set(drivername="postgresql+pg8000"))
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def run_postgres(args: argparse.Namespace, sizes: Sizes, results: Results, workdir: Path) -> None:
    """The million-row figures: always on PostgreSQL, in private databases created and dropped here."""
    phases = set(args.only) & {"list", "stats"}
    if not phases:
        return
    if not postgres_reachable(args.pg_url):
        for phase, key in (("list", "list_cases_p99_ms"), ("stats", "stats_1m_ms")):
            if phase in phases:
                results.measured[key] = None
                results.notes[phase] = f"PostgreSQL not reachable at {args.pg_url}"
        return
    if "list" in phases:
        with service_processes(workdir / "pg", args.pg_url) as lx:
            for name in ("requests", "gateway"):
                lx.start(name)
            results.attempt("list", ("list_cases_p99_ms",), lambda: run_list(lx, sizes))
    if "stats" in phases:
        results.attempt("stats", ("stats_1m_ms",), lambda: run_stats(args.pg_url, sizes))


def run_list(lx: ServiceProcesses, sizes: Sizes) -> dict:
    wait_for(lx.ready, timeout=60)
    tenant = json.loads(lx.cli("tenant", "create", "--name", "鑫苑物业", "--community", "政通路社区"))
    client = Client(lx.base, tenant["api_key"])
    estate = client.post("/api/v1/estates", {"name": "百万小区"}).json()["id"]
    loaded = api.load_cases(lx.urls["requests"], tenant["tenant_id"], estate, sizes.list_rows)
    print(f"   loaded {sizes.list_rows:,} cases in {loaded:.0f}s", flush=True)
    outcome = api.list_cases(lx.base, tenant["api_key"], sizes.list_rows, sizes.list_requests, estate)
    if sizes.list_rows != 1_000_000 and outcome.get("list_cases_p99_ms") is not None:
        outcome["note"] = f"quick run: p99 {outcome['list_cases_p99_ms']:.1f}ms at {sizes.list_rows:,} cases"
        outcome["list_cases_p99_ms"] = None
    return outcome


def run_stats(pg_url: str, sizes: Sizes) -> dict:
    """bench/survey_stats.py's measurement (in a database of its own on the server), when it is there."""
    try:
        module = importlib.import_module("bench.survey_stats")
    except ImportError as exc:
        return {"stats_1m_ms": None, "note": f"bench.survey_stats not importable ({exc})"}
    outcome = dict(module.run(pg_url, answers=sizes.answers))
    if sizes.answers != 1_000_000 and outcome.get("stats_1m_ms") is not None:
        outcome["note"] = f"quick run: {outcome['stats_1m_ms']:.1f}ms at {sizes.answers:,} answers"
        outcome["stats_1m_ms"] = None
    return {"stats_1m_ms": outcome.get("stats_1m_ms"), **({"note": outcome["note"]} if "note" in outcome else {})}


def run_queue(args: argparse.Namespace, sizes: Sizes, results: Results, workdir: Path) -> None:
    """Issue 16's queue page: on PostgreSQL (the target's database) and on SQLite, each in private databases."""
    if "queue" not in args.only:
        return
    if args.queue_requests:
        sizes = dataclasses.replace(sizes, queue_requests=args.queue_requests)
    databases = {"postgresql": args.pg_url, "sqlite": None}
    for database, url in databases.items():
        if database not in args.queue_on:
            continue
        key = "queue_p99_ms" if database == "postgresql" else "queue_sqlite_p99_ms"
        phase = f"queue ({database})"
        if url and not postgres_reachable(url):
            results.measured[key] = None
            results.notes[phase] = f"PostgreSQL not reachable at {url}"
            continue
        with service_processes(workdir / f"queue-{database}", url, RPC_TIMEOUT="30") as lx:
            results.attempt(phase, (key,), lambda: queue_figures(lx, sizes, key, database))  # noqa: B023 - called at once


def queue_figures(lx: ServiceProcesses, sizes: Sizes, key: str, database: str) -> dict:
    outcome = queue_stack.run(lx, sizes.queue_cases, sizes.queue_requests, sizes.queue_warmup)
    print(queue.table(f"GET /workbench on {database}, {sizes.queue_cases:,} cases", outcome), flush=True)
    p99 = outcome["overall"]["p99_ms"]
    found: dict = {key: p99, "details": outcome}
    if sizes.queue_cases != 100_000 and p99 is not None:
        found[key] = None
        found["note"] = f"quick run: p99 {p99:.1f}ms at {sizes.queue_cases:,} cases"
    return found


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short loads and 100k rows, to check the harness")
    parser.add_argument("--postgres", action="store_true", help="run the services on PostgreSQL (default SQLite)")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG,
        help="PostgreSQL server for --postgres and the million-row figures",
    )
    parser.add_argument("--only", default=",".join(PHASES), help=f"comma list from: {', '.join(PHASES)}")
    parser.add_argument("--queue-on", default="postgresql,sqlite", help="the queue phase's databases")
    parser.add_argument("--queue-requests", type=int, default=0, help="queue requests per combination (default 200)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--plot", action="store_true", help="also plot bench/results/*.json to a PNG")
    parser.add_argument("--keep", action="store_true", help="keep the services' logs and databases' directory")
    args = parser.parse_args(argv)
    args.only = [p.strip() for p in args.only.split(",") if p.strip()]
    args.queue_on = [d.strip() for d in args.queue_on.split(",") if d.strip()]
    unknown = set(args.only) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s) {sorted(unknown)}; choose from {', '.join(PHASES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    sizes = QUICK if args.quick else FULL
    machine = report.machine_info()
    results = Results()
    workdir = Path(tempfile.mkdtemp(prefix="lianxin-bench-"))
    try:
        run_stack(args, sizes, results, workdir)
        run_postgres(args, sizes, results, workdir)
        run_queue(args, sizes, results, workdir)
    finally:
        results.details["loadavg_at_end"] = report.machine_info().get("loadavg_at_start")
        settings = {"mode": "quick" if args.quick else "full", "database": "postgresql" if args.postgres else "sqlite"}
        settings |= {"phases": args.only, "sizes": sizes.__dict__}
        doc = report.document(
            results.measured, machine, report.git_commit(ROOT), results.notes, results.details, settings
        )
        copy = report.write(doc, args.results, args.results.parent / "results")
    if args.keep:
        print(f"service logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(report.table(doc))
    print(f"\nwritten: {args.results} and {copy}")
    if args.plot:
        from bench.perf import plot

        print(plot.plot(plot.history(copy.parent), copy.parent / "history.png"))
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
