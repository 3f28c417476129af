"""Real local servers for channel integration tests.

Every server binds 127.0.0.1 on a free port chosen by the OS, runs in a
daemon thread, is stopped at fixture teardown, and also stops itself after
`SERVER_LIFETIME` seconds in case teardown never runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

SERVER_LIFETIME = 60.0

WsgiHandler = Callable[[Request], Response]


class _LocalController(Controller):
    """aiosmtpd Controller that listens on an OS-assigned port (port=0)."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep requests to 127.0.0.1 off any proxy configured in the environment."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def http_server() -> Iterator[Callable[[WsgiHandler], str]]:
    """Factory: http_server(handler) -> base URL "http://127.0.0.1:PORT"."""
    servers: list[Any] = []
    timers: list[threading.Timer] = []

    def start(handler: WsgiHandler) -> str:
        app = Request.application(handler)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.daemon = True
        thread.start()
        watchdog = threading.Timer(SERVER_LIFETIME, server.shutdown)
        watchdog.daemon = True
        watchdog.start()
        servers.append((server, thread))
        timers.append(watchdog)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for timer in timers:
        timer.cancel()
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., int]]:
    """Factory: smtp_server(handler, **smtp_kwargs) -> port."""
    controllers: list[Controller] = []
    timers: list[threading.Timer] = []

    def start(handler: Any, **kwargs: Any) -> int:
        controller = _LocalController(handler, hostname="127.0.0.1", port=0, **kwargs)
        controller.start()
        watchdog = threading.Timer(SERVER_LIFETIME, controller.stop)
        watchdog.daemon = True
        watchdog.start()
        controllers.append(controller)
        timers.append(watchdog)
        return controller.port

    yield start
    for timer in timers:
        timer.cancel()
    for controller in controllers:
        if controller._thread is not None:  # not already stopped by its watchdog
            controller.stop()
