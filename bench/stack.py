"""The platform as real processes on a private vhost and private databases (for fault runs)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import requests as http

from services.common.testing import free_port, private_databases, private_vhost, wait_for

SERVICES = ("requests", "volunteers", "notifications", "surveys", "gateway")
BIN = Path(sys.executable).parent


class Stack:
    """Service processes (several instances each, if asked) that a fault run can kill and restart."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.procs: dict[str, list[subprocess.Popen]] = {name: [] for name in SERVICES}
        self.base = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
        self.restarts = 0
        self._stopping = threading.Event()
        threading.Thread(target=self._supervise, daemon=True).start()

    def _supervise(self) -> None:
        """Restart a process that exits on its own with an error, as a container runtime would."""
        while not self._stopping.wait(1.0):
            for name, procs in self.procs.items():
                for proc in list(procs):
                    if proc.poll() is not None and proc.returncode > 0 and not self._stopping.is_set():
                        procs.remove(proc)
                        self.restarts += 1
                        self.start(name)

    def start(self, name: str, instances: int = 1) -> None:
        for _ in range(instances):
            log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
            env = self.env | {"HEALTH_PORT": str(free_port())}
            proc = subprocess.Popen([str(BIN / "lianxin-service"), name], env=env, stdout=log, stderr=subprocess.STDOUT)
            log.close()
            self.procs[name].append(proc)

    def live(self, name: str) -> list[subprocess.Popen]:
        return [p for p in self.procs[name] if p.poll() is None]

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        for proc in self.live(name):
            proc.send_signal(sig)
            proc.wait(timeout=60)

    def stop(self) -> None:
        self._stopping.set()
        for procs in self.procs.values():
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
        for procs in self.procs.values():
            for proc in procs:
                try:
                    proc.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    proc.kill()

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
def stack(workdir: Path, postgres_url: str | None, **settings: str) -> Iterator[Stack]:
    workdir.mkdir(parents=True, exist_ok=True)
    with private_vhost() as amqp_uri, private_databases(postgres_url) as urls:
        env = (
            dict(os.environ)
            | {
                "AMQP_URI": amqp_uri,
                "GATEWAY_PORT": str(free_port()),
                "LIANXIN_VAR_DIR": str(workdir),
                "LOG_LEVEL": "WARNING",
                "PYTHONWARNINGS": "ignore",
                "RPC_TIMEOUT": "5",
            }
            | {f"{name.upper()}_DATABASE_URL": url for name, url in urls.items()}
            | settings
        )
        lx = Stack(env, workdir)
        lx.urls = urls
        lx.cli("migrate")
        try:
            yield lx
        finally:
            lx.stop()


class Client:
    """A tenant's HTTP client that retries through outages (5xx, refused connections)."""

    def __init__(self, base: str, key: str) -> None:
        self.base = base
        self.session = http.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {key}"

    def post(self, path: str, body: dict, deadline: float = 120.0) -> http.Response:
        end = time.monotonic() + deadline
        while True:
            try:
                response = self.session.post(self.base + path, json=body, timeout=10)
                if response.status_code < 500:
                    return response
            except http.RequestException:
                pass
            if time.monotonic() > end:
                raise TimeoutError(f"POST {path} kept failing for {deadline}s")
            time.sleep(0.2)


def seed(lx: Stack, volunteers: int = 3) -> tuple[Client, str, str]:
    wait_for(lx.ready, timeout=60)
    tenant = json.loads(lx.cli("tenant", "create", "--name", "缔华物业", "--community", "政通路社区"))
    client = Client(lx.base, tenant["api_key"])
    estate = client.post("/api/v1/estates", {"name": "东方现代城"}).json()["id"]
    for n in range(volunteers):
        client.post("/api/v1/volunteers", {"name": f"志愿者{n}", "phone": f"1380000{n:04d}", "estate_ids": [estate]})
    return client, tenant["tenant_id"], estate
