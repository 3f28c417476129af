"""Load drivers: a closed loop (N clients, each sending its next request when the last answers)
and an open loop (requests started on a fixed schedule, whatever the answers' pace).

Each worker thread has its own keep-alive HTTP session; a call's outcome is recorded as
(started, finished, status) in monotonic seconds, with wall-clock UTC of the finish for
matching against times the services store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests as http


@dataclass
class Call:
    item: object
    started: float
    finished: float
    status: int  # 0: no answer (connection error or timeout)
    finished_utc: datetime


@dataclass
class Run:
    calls: list[Call] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    def ok(self, statuses: tuple[int, ...] = (200, 201)) -> list[Call]:
        return [c for c in self.calls if c.status in statuses]

    def rate(self, statuses: tuple[int, ...] = (200, 201)) -> float:
        elapsed = self.finished - self.started
        return len(self.ok(statuses)) / elapsed if elapsed > 0 else 0.0


def utcnow() -> datetime:
    """Naive UTC, as every service stores times."""
    return datetime.now(UTC).replace(tzinfo=None)


class Sessions(threading.local):
    """One keep-alive session per thread."""

    def __init__(self, key: str) -> None:
        self.session = http.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {key}"


Send = Callable[[http.Session, object], int]


def _call(sessions: Sessions, send: Send, item: object) -> Call:
    started = time.monotonic()
    try:
        status = send(sessions.session, item)
    except http.RequestException:
        status = 0
    return Call(item, started, time.monotonic(), status, utcnow())


def closed_loop(key: str, send: Send, items: Iterator[object], clients: int, seconds: float) -> Run:
    """``clients`` threads send back to back until ``seconds`` have passed or items run out."""
    sessions = Sessions(key)
    run = Run(started=time.monotonic())
    deadline = run.started + seconds
    lock = threading.Lock()

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                item = next(items, None)
            if item is None:
                return
            call = _call(sessions, send, item)
            with lock:
                run.calls.append(call)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.finished = time.monotonic()
    return run


def open_loop(key: str, send: Send, items: Iterator[object], rate: float, seconds: float, workers: int = 32) -> Run:
    """Start one request every ``1/rate`` seconds for ``seconds`` (a slow answer delays no other)."""
    sessions = Sessions(key)
    run = Run(started=time.monotonic())
    interval = 1.0 / rate
    count = int(rate * seconds)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = []
        for n in range(count):
            item = next(items, None)
            if item is None:
                break
            delay = run.started + n * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(_call, sessions, send, item))
        run.calls = [f.result() for f in futures]
    run.finished = time.monotonic()
    return run
