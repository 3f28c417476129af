"""A RabbitMQ for ``make run`` on one machine: reach it, start it, or install it when allowed.

``make test`` installs Chromium itself when it runs as root with apt-get; ``make run`` does the
same for the broker, so a newcomer on a bare Debian machine gets a running platform from one
command. It only ever installs or starts a broker for a loopback ``AMQP_URI``: a broker named
elsewhere is someone else's to run, and we say so instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from services.common.broker import connect

SERVER_PATHS = ("/usr/sbin/rabbitmq-server", "/usr/lib/rabbitmq/bin/rabbitmq-server")
INSTALL = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "rabbitmq-server"]
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", ""}


def reachable(uri: str) -> bool:
    try:
        connect(uri, timeout=3).release()
        return True
    except Exception:
        return False


def is_local(uri: str) -> bool:
    return (urlsplit(uri).hostname or "") in LOOPBACK_HOSTS


def find_server() -> str | None:
    return shutil.which("rabbitmq-server") or next((p for p in SERVER_PATHS if os.path.exists(p)), None)


def may_install() -> bool:
    """Root with apt-get: the same condition ``make test`` uses for Chromium."""
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def install() -> bool:
    print("RabbitMQ is not installed: installing Debian's rabbitmq-server (apt-get) …")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    return subprocess.run(INSTALL, check=False, env=env).returncode == 0


def start(server: str) -> None:
    print(f"starting RabbitMQ ({server} -detached) …")
    subprocess.run([server, "-detached"], check=False)


def ensure_broker(
    uri: str,
    *,
    reach: Callable[[str], bool] = reachable,
    locate: Callable[[], str | None] = find_server,
    allowed: Callable[[], bool] = may_install,
    do_install: Callable[[], bool] = install,
    do_start: Callable[[str], None] = start,
    wait_seconds: float = 90,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Reach RabbitMQ at ``uri``; for a loopback one, install (when allowed) and start it."""
    if reach(uri):
        return True
    if not is_local(uri):
        print(f"No RabbitMQ answers at {uri}. Start it, or set AMQP_URI to a broker you have.", file=sys.stderr)
        return False
    server = locate()
    if server is None and allowed():
        if not do_install():
            print("installing rabbitmq-server failed (see apt-get's output above)", file=sys.stderr)
            return False
        if reach(uri):  # Debian's package starts the service where an init system runs
            return True
        server = locate()
    if server is None:
        print(
            f"No RabbitMQ answers at {uri}, and none is installed.\n"
            "Install one (`sudo apt-get install rabbitmq-server`; `make run` does it itself when run as\n"
            "root), or set AMQP_URI to a broker you have.",
            file=sys.stderr,
        )
        return False
    do_start(server)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if reach(uri):
            return True
        sleep(1)
    print(f"RabbitMQ did not come up at {uri} within {wait_seconds:.0f} s", file=sys.stderr)
    return False
