"""The reliability harness's own PostgreSQL cluster, so a database fault never touches the machine's.

``PgCluster`` runs Debian's PostgreSQL server binaries (``/usr/lib/postgresql/<version>/bin``)
on a data directory under the run's temporary directory, on its own loopback port, with its own
socket directory and trust authentication for local connections. The postmaster is our child
and its pid comes from *our* data directory's ``postmaster.pid``, so a fault stops or kills
exactly that process and nothing else. As root the server runs as the ``postgres`` user
(``initdb`` refuses root); the data directory is made theirs.

    with PgCluster(directory) as cluster:
        cluster.url          # postgresql://postgres@127.0.0.1:<port>/postgres
        cluster.stop()       # fast shutdown of our postmaster (SIGINT), waited for
        cluster.start()      # same data, same port; a new pid
        cluster.kill()       # SIGKILL to our postmaster only
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bench.rabbit_node import alive
from services.common.db import make_engine
from tests.support.infra import free_port


def server_bin() -> Path:
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/<major>/bin)."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if not versions:
        raise FileNotFoundError("no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql)")
    return versions[-1].parent


class PgCluster:
    """One PostgreSQL cluster of our own: initdb, start, stop, kill -9, drop."""

    def __init__(self, directory: Path | None = None, start_timeout: float = 60.0) -> None:
        self._as = self._run_as()
        if directory is not None and not self._reachable_by_server(Path(directory).parent):
            directory = None  # e.g. pytest's tmp_path under /tmp/pytest-of-root (0700): not for postgres
        self._own_directory = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="lianxin-pg-"))
        self.data = self.directory / "data"
        self.sockets = self.directory / "sockets"
        self.port = free_port()
        self.bin = server_bin()
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.started_in: float | None = None

    @staticmethod
    def _run_as() -> list[str]:
        """As root, the server runs as ``postgres`` (it refuses to run as root)."""
        if os.geteuid() != 0:
            return []
        return ["runuser", "-u", "postgres", "--"]

    def _reachable_by_server(self, path: Path) -> bool:
        """Whether the server's user can reach ``path`` (every parent searchable)."""
        if not self._as:
            return True
        return subprocess.run([*self._as, "test", "-x", str(path)], check=False).returncode == 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def pid(self) -> int | None:
        """The postmaster's pid, from our own data directory (None when it is not running)."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if alive(pid) else None

    def _chown(self, *paths: Path) -> None:
        if self._as:
            user = pwd.getpwnam("postgres")
            for path in paths:
                os.chown(path, user.pw_uid, user.pw_gid)

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._chown(self.directory)
        for path in (self.data, self.sockets):
            path.mkdir(exist_ok=True)
            path.chmod(0o700)
            self._chown(path)
        done = subprocess.run(
            [*self._as, str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
             "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"],
            check=False, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}): {done.stderr.strip()[-500:]}")

    def start(self) -> None:
        if not (self.data / "PG_VERSION").exists():
            self.init()
        started = time.monotonic()
        log = open(self.directory / "postgres.log", "ab")  # noqa: SIM115 - the server's stdout for its lifetime
        self.proc = subprocess.Popen(
            [*self._as, str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.sockets}",
             "-c", "fsync=off", "-c", "max_connections=300", "-c", "shared_buffers=64MB"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = started + self.start_timeout
        while time.monotonic() < deadline:
            if self.reachable():
                self.started_in = round(time.monotonic() - started, 1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.drop_process()
        raise RuntimeError(f"own PostgreSQL did not start on {self.port}; see {self.directory / 'postgres.log'}")

    def reachable(self) -> bool:
        engine = make_engine(self.url, connect_args={"timeout": 2})  # pg8000's connect timeout
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            return True
        except Exception:
            return False
        finally:
            engine.dispose()

    def _signal(self, sig: int, timeout: float) -> int:
        pid = self.pid
        if pid is None:
            raise RuntimeError("own PostgreSQL is not running")
        os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if alive(pid):
            raise RuntimeError(f"own PostgreSQL (pid {pid}) did not exit after signal {sig}")
        if self.proc is not None:
            self.proc.wait(timeout=10)
        return pid

    def stop(self, timeout: float = 30.0) -> int:
        """Fast shutdown (SIGINT: clients disconnected, no wait for them); returns the old pid."""
        return self._signal(signal.SIGINT, timeout)

    def kill(self) -> int:
        """SIGKILL to our postmaster (its backends exit on their own): a crash; returns the old pid."""
        return self._signal(signal.SIGKILL, 10)

    def drop_process(self) -> None:
        """Stop our postmaster if it runs (fast, then SIGKILL)."""
        if self.pid is not None:
            try:
                self.stop()
            except RuntimeError:
                self.kill()
        elif self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # our runuser child, before the postmaster wrote its pid file
            self.proc.wait(timeout=10)

    def drop(self) -> None:
        """Stop if running, and remove everything it wrote."""
        self.drop_process()
        if self._own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)
        else:
            shutil.rmtree(self.data, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.drop()
