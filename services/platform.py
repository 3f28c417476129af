"""``lianxin run`` / ``make run``: the whole platform on one machine, one process per service."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

from services.common.broker import connect
from services.common.config import SERVICES, public_base_url, setting


def broker_reachable(uri: str) -> bool:
    try:
        connect(uri, timeout=3).release()
        return True
    except Exception:
        return False


def ensure_broker() -> bool:
    """Reach RabbitMQ at AMQP_URI; start a local one if it is installed and not running."""
    uri = setting("AMQP_URI")
    if broker_reachable(uri):
        return True
    server = shutil.which("rabbitmq-server") or (
        "/usr/sbin/rabbitmq-server" if os.path.exists("/usr/sbin/rabbitmq-server") else None
    )
    if server is None:
        print(
            f"No RabbitMQ answers at {uri}.\n"
            "Start one (e.g. `apt-get install rabbitmq-server && rabbitmq-server -detached`, or\n"
            "`docker run -d -p 5672:5672 rabbitmq:3-management`) or set AMQP_URI to a broker you have.",
            file=sys.stderr,
        )
        return False
    print(f"starting RabbitMQ ({server} -detached) …")
    subprocess.run([server, "-detached"], check=False)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if broker_reachable(uri):
            return True
        time.sleep(1)
    print(f"RabbitMQ did not come up at {uri} within 90 s", file=sys.stderr)
    return False


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


def run() -> int:
    from services.cli import main as cli

    if not ensure_broker():
        return 1
    for step in (["migrate"], ["topology", "declare"]):
        if cli(step) != 0:
            return 1
    from services import demo
    from services.cli import store

    seeded = demo.seed(store("gateway"), store("requests"), store("volunteers"))
    health_ports = health_ports_of(int(setting("HEALTH_PORT")))

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
    try:
        if not (wait_http(f"{base}/healthz", 90) and wait_consumers(setting("AMQP_URI"), 90)):
            print("the services did not become ready in 90 s", file=sys.stderr)
            stop()
            return 1
        first = seeded[0]
        print("\n连心 Lianxin is running.")
        print(f"  gateway:  {base}   (API docs: {base}/docs, spec: {base}/openapi.json)")
        ports = {"gateway": int(setting("GATEWAY_METRICS_PORT"))} | health_ports
        host = setting("HEALTH_HOST")
        print(f"  health and /metrics on {host}: " + ", ".join(f"{name} :{port}" for name, port in ports.items()))
        print("  demo API keys (政通路社区):")
        for row in seeded:
            print(f"    {row['company']:<6} {row['api_key']}   estate {row['estate']} = {row['estate_id']}")
        case = {
            "estate_id": first["estate_id"],
            "category": "repair",
            "title": "楼道灯不亮",
            "description": "3号楼2单元5楼楼道灯坏了",
            "channel": "app",
            "priority": "normal",
            "reporter": {"name": "陈先生", "phone": "13912345678", "household": "3-2-501"},
        }
        print(f"  resident app key (缔华物业; sign a resident in: POST /api/v1/sign-in/code): {demo.RESIDENT_APP_KEY}")
        print(f"  residents and volunteers sign in at {base}/signin (the code shows in this log)")
        print(f"  party branch:  league {base}/p/communities/{demo.COMMUNITY}/league")
        print(f"                 dashboard {base}/p/dashboard (sign in with {demo.SUPERVISOR_KEY})")
        print("  try:")
        print(
            f"    curl -s -X POST {base}/api/v1/cases -H 'Authorization: Bearer {first['api_key']}' "
            f"-H 'Content-Type: application/json' -d '{json.dumps(case, ensure_ascii=False)}'"
        )
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
