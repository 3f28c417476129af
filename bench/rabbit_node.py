"""The reliability harness's own RabbitMQ node, so its faults never touch the machine's broker.

``RabbitNode`` runs Debian's RabbitMQ 3.10 (``/usr/lib/rabbitmq/bin/rabbitmq-server``, in the
foreground, as the current user) with its own node name, its own loopback AMQP and distribution
ports, its own data, log and config files and its own Erlang cookie (HOME is its directory), and
no plugins (no management port). It runs in a process group of its own and we know the pid of its
Erlang VM, so a fault can ``kill -9`` exactly that node and restart it; every ``rabbitmqctl`` /
``rabbitmq-diagnostics`` call names the node (``-n``) and uses its HOME and environment file, so
it cannot reach the machine's node. epmd is shared (the node registers its name there, and the
name goes when the node dies).

    with RabbitNode(directory) as node:
        node.uri            # amqp://guest:guest@127.0.0.1:<port>/
        old = node.kill()   # SIGKILL to our node's processes only
        node.restart()      # same name, data and ports; a new OS pid
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from services.common.broker import connect
from tests.support.infra import free_port, private_vhost

BIN = Path("/usr/lib/rabbitmq/bin")
HIGH_WATERMARK = 0.4  # the node's configured vm_memory_high_watermark.relative
ALARM_WATERMARK = 0.0001  # low enough that any node is over it: the memory alarm blocks publishers


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in task.read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def process_group(pgid: int) -> list[int]:
    """Live processes in a process group."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                pids.append(int(stat.parent.name))
    return pids


class RabbitNode:
    """One RabbitMQ node of our own: start, kill -9, restart, memory alarm, stop."""

    def __init__(self, directory: Path | None = None, start_timeout: float = 60.0) -> None:
        self._own_directory = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="lianxin-rabbit-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = f"lianxin-h-{uuid.uuid4().hex[:8]}@localhost"
        self.port, self.dist_port = free_port(), free_port()
        self.start_timeout = start_timeout
        self.watermark = HIGH_WATERMARK
        self.proc: subprocess.Popen | None = None
        self.pid: int | None = None  # the node's Erlang VM (beam.smp)
        self.started_in: float | None = None  # seconds the last start took
        self.env = self._configure()

    def _configure(self) -> dict[str, str]:
        d = self.directory
        (d / "rabbitmq.conf").write_text(
            f"vm_memory_high_watermark.relative = {self.watermark}\nlog.console = true\nlog.file.level = info\n"
        )
        (d / "advanced.config").write_text("[].\n")
        (d / "enabled_plugins").write_text("[].\n")
        (d / "rabbitmq-env.conf").write_text("# the harness's node: everything is in the environment\n")
        # Nothing of the caller's RabbitMQ or Erlang settings (e.g. the machine's node name) leaks in.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        return env | {
            "HOME": str(d),  # its own .erlang.cookie, for the node and for our CLI calls
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(d / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
            "RABBITMQ_CONF_ENV_FILE": str(d / "rabbitmq-env.conf"),  # not /etc/rabbitmq's
            "RABBITMQ_PID_FILE": str(d / "rabbitmq.pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    @property
    def uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> int:
        """Start the node and wait until it accepts an AMQP connection; the VM's pid."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        began = time.monotonic()
        with open(self.directory / "console.log", "ab") as log:
            self.proc = subprocess.Popen(
                [str(BIN / "rabbitmq-server")],
                env=self.env,
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() reaches it and nothing else
            )
        self.pid = None
        deadline = began + self.start_timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.log_tail()}")
            self.pid = self.pid or self._beam()
            if self.pid and self.reachable():
                break
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"{self.name} not reachable within {self.start_timeout} s: {self.log_tail()}")
            time.sleep(0.25)
        self.started_in = round(time.monotonic() - began, 1)
        return self.pid

    def _beam(self) -> int | None:
        for pid in descendants(self.proc.pid):
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/comm").read_text().strip() == "beam.smp":
                    return pid
        return None

    def processes(self) -> list[int]:
        """Our node's live processes: its process group and the VM's children (erl_child_setup
        starts a session of its own)."""
        if self.proc is None:
            return []
        tree = {self.proc.pid, *process_group(self.proc.pid), *descendants(self.proc.pid)}
        return sorted(p for p in tree if alive(p))

    def kill(self) -> int | None:
        """SIGKILL our node (its process group and the VM's children, by pid); the VM's old pid."""
        if self.proc is None:
            return None
        old, pids = self.pid, self.processes()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        return old

    def restart(self) -> int:
        """Start the node again (killing it first if it still runs): same name, data and ports."""
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
        return self.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop gracefully (``rabbitmqctl -n <our node> stop``); SIGKILL whatever is left after ``timeout``."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(subprocess.SubprocessError):
                self.ctl("stop", timeout=timeout)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        if self.processes():
            self.kill()
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> RabbitNode:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- looking and poking ------------------------------------------------------------------

    def reachable(self) -> bool:
        """Whether the node accepts an AMQP connection now."""
        try:
            connect(self.uri, timeout=3).release()
            return True
        except Exception:
            return False

    def ctl(self, *args: str, tool: str = "rabbitmqctl", timeout: float = 60.0) -> str:
        """Run a RabbitMQ CLI command against our node only; its output."""
        return subprocess.run(
            [str(BIN / tool), "-n", self.name, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        ).stdout

    def set_memory_alarm(self, on: bool) -> None:
        """Raise the memory alarm (publishers blocked) or clear it by restoring the configured watermark."""
        self.ctl("set_vm_memory_high_watermark", str(ALARM_WATERMARK if on else self.watermark))

    def alarms(self) -> list[str]:
        """The node's resource alarms now, e.g. ``["memory"]``; empty when none."""
        out = self.ctl("-q", "alarms", tool="rabbitmq-diagnostics")
        return sorted({m for m in re.findall(r"\b(memory|disk|file_descriptor)\b", out.lower())})

    @contextlib.contextmanager
    def vhost(self) -> Iterator[str]:
        """A fresh vhost on our node, deleted afterwards; its URI."""
        with private_vhost(self.uri, ctl=(str(BIN / "rabbitmqctl"), "-n", self.name), env=self.env) as uri:
            yield uri
