"""``lianxin run`` / ``make run``: the whole platform on one machine, one process per service."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from services import demo
from services.common.broker import connect
from services.common.config import SERVICES, public_base_url, setting
from services.common.stores import declare_topology, migrate_all, store
from services.local_broker import ensure_broker


def wait_consumers(uri: str, seconds: float) -> bool:
    """Every domain service is consuming its RPC queue (so the gateway can reach it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = connect(uri, timeout=3)
            try:
                channel = conn.channel()
                ready = all(
                    channel.queue_declare(f"rpc-{name}", passive=True).consumer_count > 0
                    for name in SERVICES
                    if name != "gateway"
                )
            finally:
                conn.release()
            if ready:
                return True
        except Exception:
            pass
        time.sleep(0.5)
    return False


def wait_http(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.3)
    return False


def health_ports_of(base: int) -> dict[str, int]:
    """On one machine the four health servers need four ports: HEALTH_PORT, HEALTH_PORT+1, …"""
    names = [name for name in SERVICES if name != "gateway"]
    return {name: base + i if base else 0 for i, name in enumerate(names)}


def banner(base: str, health_ports: dict[str, int], seeded: demo.Seeded) -> list[str]:
    """What ``make run`` prints once the services are ready: where things are, the demo keys, a first call."""
    first = seeded.companies[0]
    case = {
        "estate_id": first["estate_id"],
        "category": "repair",
        "title": "楼道灯不亮",
        "description": "3号楼2单元5楼楼道灯坏了",
        "channel": "app",
        "priority": "normal",
        "reporter": {"name": "陈先生", "phone": "13912345678", "household": "3-2-501"},
    }
    where = "printed above" if seeded.keys else "issued as above"
    return [
        "\n连心 Lianxin is running.",
        f"  gateway:  {base}   (API docs: {base}/docs, spec: {base}/openapi.json)",
        f"  health and /metrics on {setting('HEALTH_HOST')}: "
        + ", ".join(f"{name} :{port}" for name, port in health_ports.items()),
        f"  demo community {demo.COMMUNITY}:",
        *(f"    {row['company']:<6} estate {row['estate']} = {row['estate_id']}" for row in seeded.companies),
        *("  " + line for line in demo.key_lines(seeded)),
        f"  residents and volunteers sign in at {base}/signin (the code shows in this log)",
        f"  party branch:  league {base}/p/communities/{demo.COMMUNITY}/league",
        f"                 the branch's view {base}/workbench/branch (a supervisor the operator invited signs in "
        f"with their phone: lianxin staff invite --community {demo.COMMUNITY} --phone P --name N)",
        f"  try, with KEY set to {first['company']}'s company_admin key ({where}; each key is printed once only):",
        f'    curl -s -X POST {base}/api/v1/cases -H "Authorization: Bearer $KEY" '
        f"-H 'Content-Type: application/json' -d '{json.dumps(case, ensure_ascii=False)}'",
    ]


def run() -> int:
    if not ensure_broker(setting("AMQP_URI")):
        return 1
    migrate_all()
    declare_topology()
    seeded = demo.seed(store("gateway"), store("requests"), store("volunteers"))
    health_ports = health_ports_of(int(setting("HEALTH_PORT")))
    shown_ports = {"gateway": int(setting("GATEWAY_METRICS_PORT"))} | health_ports

    def spawn(name: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "services.runner", name],
            start_new_session=True,
            env=os.environ | {"HEALTH_PORT": str(health_ports.get(name, 0))},
        )

    children = [spawn(name) for name in SERVICES]

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    base = public_base_url()
    shown = False  # the new keys exist in clear only here: print them whatever way this ends
    try:
        if not (wait_http(f"{base}/healthz", 90) and wait_consumers(setting("AMQP_URI"), 90)):
            print("the services did not become ready in 90 s", file=sys.stderr)
            stop()
            return 1
        print("\n".join(banner(base, shown_ports, seeded)))
        shown = True
        print("  Ctrl-C stops everything.\n", flush=True)
        while True:  # restart a service that exits with an error, as compose or Kubernetes would
            time.sleep(0.5)
            for index, child in enumerate(children):
                if child.poll() is not None and child.returncode != 0:
                    name = SERVICES[index]
                    print(f"{name} exited ({child.returncode}); restarting it", file=sys.stderr, flush=True)
                    children[index] = spawn(name)
    except KeyboardInterrupt:
        print("\nstopping …")
        return 0
    finally:
        stop()
        if seeded.keys and not shown:
            print("\n".join(demo.key_lines(seeded)), file=sys.stderr, flush=True)
