"""Test infrastructure: a private RabbitMQ vhost, private databases, a cuttable TCP proxy, the
platform in one process or as processes.

Each test session gets its own vhost and databases, so runs never see each other's
messages or rows, and the machine's broker and PostgreSQL are left as they were. The
benchmark and the fault harness (bench/) use the same pieces. It lives in tests/, not
services/, because it drives ``rabbitmqctl`` and creates and drops databases: nothing a
production image should carry.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import eventlet
import requests as http
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from services.common import migrate, topology
from services.common.config import SERVICES, service_config
from services.common.db import Store, make_engine

RABBITMQCTL = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def private_vhost(
    base_uri: str = "amqp://guest:guest@127.0.0.1:5672/",
    ctl: Sequence[str] = (RABBITMQCTL,),
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """A fresh RabbitMQ vhost for the session, deleted afterwards.

    ``ctl`` and ``env`` are the rabbitmqctl command that reaches the broker at ``base_uri``
    (by default the machine's; bench.rabbit_node passes its own node's)."""
    name = f"lianxin-test-{uuid.uuid4().hex[:10]}"
    subprocess.run([*ctl, "-q", "add_vhost", name], check=True, capture_output=True, timeout=60, env=env)
    subprocess.run(
        [*ctl, "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
        timeout=60,
        env=env,
    )
    try:
        yield base_uri.rstrip("/") + "/" + quote(name, safe="")
    finally:
        subprocess.run([*ctl, "-q", "delete_vhost", name], capture_output=True, timeout=60, env=env)


@contextlib.contextmanager
def private_databases(postgres_url: str | None) -> Iterator[dict[str, str]]:
    """One empty database per service: PostgreSQL databases when a URL is given, else SQLite files."""
    if not postgres_url:
        directory = tempfile.mkdtemp(prefix="lianxin-test-")
        try:
            yield {name: f"sqlite:///{directory}/{name}.sqlite3" for name in SERVICES}
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return
    admin_url = make_url(postgres_url).set(drivername="postgresql+pg8000")
    prefix = f"lxt_{uuid.uuid4().hex[:8]}"
    # pre-ping: a fault may restart PostgreSQL in between, and the drop must not use a dead connection
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    urls = {}
    with admin.connect() as conn:
        for name in SERVICES:
            conn.execute(text(f'CREATE DATABASE "{prefix}_{name}"'))
            urls[name] = admin_url.set(database=f"{prefix}_{name}").render_as_string(hide_password=False)
    try:
        yield urls
    finally:
        with admin.connect() as conn:
            for name in SERVICES:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{prefix}_{name}" WITH (FORCE)'))
        admin.dispose()


def listening_pid(port: int) -> int | None:
    """The process listening on a TCP port (/proc/net/tcp{,6} → socket inode → /proc/*/fd)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            if os.readlink(fd) in inodes:
                return int(fd.parent.parent.name)
        except OSError:
            continue
    return None


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll until ``predicate()`` is truthy; return its value or raise AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate}")
        time.sleep(interval)


class TcpProxy:
    """A loopback TCP proxy that a test can cut (refuse and drop connections) and restore."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.enabled = True
        self._conns: list[socket.socket] = []
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", self.port))
        self._server.listen(64)
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self.enabled:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            self._conns += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.enabled = False
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._conns.clear()

    def restore(self) -> None:
        self.enabled = True

    def close(self) -> None:
        self._stopped = True
        self.cut()
        self._server.close()


class Platform:
    """All five services as nameko containers in this process, on private vhost and databases."""

    def __init__(self, amqp_uri: str, database_urls: dict[str, str], **overrides: Any) -> None:
        self.amqp_uri = amqp_uri
        self.database_urls = database_urls
        self.port = free_port()
        self.overrides = overrides
        self.containers: dict[str, Any] = {}
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.http = http.Session()
        self.http.trust_env = False

    def env(self) -> dict[str, str]:
        # HEALTH_PORT 0: each service's health server takes a free port (see health_url).
        env = {
            "AMQP_URI": self.amqp_uri,
            "GATEWAY_PORT": str(self.port),
            "GATEWAY_HOST": "127.0.0.1",
            "HEALTH_PORT": "0",
            "GATEWAY_METRICS_PORT": "0",
        }
        env |= {f"{name.upper()}_DATABASE_URL": url for name, url in self.database_urls.items()}
        env |= {key: str(value) for key, value in self.overrides.items()}
        return env

    def config(self, name: str, **extra: Any) -> dict:
        return service_config(name, env=self.env(), **extra)

    def migrate(self) -> None:
        for name, url in self.database_urls.items():
            migrate.upgrade(name, url)

    def start(self, *names: str, **extra: Any) -> None:
        from nameko.containers import ServiceContainer

        from services.common.broker import bound_nameko_connections

        bound_nameko_connections()

        topology.declare(self.config("gateway"))
        for name in names or SERVICES:
            container = ServiceContainer(topology.service_class(name), self.config(name, **extra.get(name, {})))
            container.start()
            self.containers[name] = container
        if "gateway" in self.containers:
            wait_for(lambda: self._healthy(), timeout=20)

    def _healthy(self) -> bool:
        try:
            return self.http.get(self.base_url + "/healthz", timeout=1).status_code == 200
        except http.RequestException:
            return False

    def stop(self, *names: str) -> None:
        for name in names or [n for n in SERVICES if n in self.containers]:
            container = self.containers.pop(name, None)
            if container is None:
                continue
            # A container restarted in-process sometimes never finishes nameko's consumer
            # unregistration at stop; kill it rather than hang the suite (separate processes,
            # as in production, are stopped by SIGTERM and exercised by the e2e tests).
            try:
                with eventlet.Timeout(15):
                    container.stop()
            except eventlet.Timeout:
                container.kill()

    def health_url(self, name: str) -> str:
        """Where a running service answers /livez, /readyz and /metrics (the gateway: its metrics port)."""
        from services.common.health import HealthServer

        container = self.containers[name]
        server = next(dep for dep in container.dependencies if isinstance(dep, HealthServer))
        return f"http://127.0.0.1:{server.port}"

    def store(self, name: str) -> Store:
        return Store(make_engine(self.database_urls[name]))

    def with_env(self) -> contextlib.AbstractContextManager:
        """Point the ``lianxin`` command at this platform (for CLI tests)."""
        return _patched_environ(self.env())


@contextlib.contextmanager
def _patched_environ(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


BIN = Path(sys.executable).parent


class ServiceProcesses:
    """Service processes (several instances each, if asked) that a fault run can kill and restart."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.procs: dict[str, list[subprocess.Popen]] = {name: [] for name in SERVICES}
        self.base = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
        self.exits: list[tuple[str, int]] = []  # (service, exit code) of each process restarted
        self.command = [str(BIN / "lianxin-service")]
        self.health_ports: dict[str, int] = {}
        self._stopping = threading.Event()
        threading.Thread(target=self._supervise, daemon=True).start()

    def _supervise(self) -> None:
        """Restart a process that exits on its own with an error, as a container runtime would."""
        while not self._stopping.wait(1.0):
            for name, procs in self.procs.items():
                for proc in list(procs):
                    if proc.poll() is not None and proc.returncode > 0 and not self._stopping.is_set():
                        procs.remove(proc)
                        self.exits.append((name, proc.returncode))
                        self.start(name)

    def start(self, name: str, instances: int = 1) -> None:
        for _ in range(instances):
            log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
            self.health_ports[name] = free_port()
            port = str(self.health_ports[name])  # the gateway's metrics port, or the others' health port
            env = self.env | {"HEALTH_PORT": port, "GATEWAY_METRICS_PORT": port}
            proc = subprocess.Popen([*self.command, name], env=env, stdout=log, stderr=subprocess.STDOUT)
            log.close()
            self.procs[name].append(proc)

    def live(self, name: str) -> list[subprocess.Popen]:
        return [p for p in self.procs[name] if p.poll() is None]

    def kill(self, name: str, sig: int = signal.SIGKILL) -> list[int]:
        """Signal every live instance of a service; their exit codes."""
        codes = []
        for proc in self.live(name):
            proc.send_signal(sig)
            codes.append(proc.wait(timeout=60))
        return codes

    def stop(self) -> dict[str, int | str]:
        """SIGTERM everything; each service's exit code (of its last instance)."""
        self._stopping.set()
        for procs in self.procs.values():
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
        codes: dict[str, int | str] = {}
        for name, procs in self.procs.items():
            for proc in procs:
                try:
                    codes[name] = proc.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    codes[name] = "killed"
        return codes

    def cli(self, *args: str) -> str:
        return subprocess.run(
            [str(BIN / "lianxin"), *args], env=self.env, capture_output=True, text=True, timeout=120, check=True
        ).stdout

    def ready(self) -> bool:
        try:
            return http.get(self.base + "/healthz", timeout=1).status_code == 200
        except http.RequestException:
            return False


@contextlib.contextmanager
def service_processes(
    workdir: Path, postgres_url: str | None, amqp_uri: str | None = None, **settings: str
) -> Iterator[ServiceProcesses]:
    """The services as separate processes on private databases, and on ``amqp_uri`` if given
    (e.g. a vhost of the reliability harness's own node), else on a private vhost of the
    machine's broker."""
    workdir.mkdir(parents=True, exist_ok=True)
    vhost = contextlib.nullcontext(amqp_uri) if amqp_uri else private_vhost()
    with vhost as uri, private_databases(postgres_url) as urls:
        env = (
            dict(os.environ)
            | {
                "AMQP_URI": uri,
                "GATEWAY_PORT": str(free_port()),
                "LIANXIN_VAR_DIR": str(workdir),
                "LOG_LEVEL": "WARNING",
                "PYTHONWARNINGS": "ignore",
                "RPC_TIMEOUT": "5",
            }
            | {f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()}
            | settings
        )
        lx = ServiceProcesses(env, workdir)
        lx.urls = urls
        lx.cli("migrate")
        try:
            yield lx
        finally:
            lx.stop()
