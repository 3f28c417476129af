"""``make run`` reaches, starts, or installs a loopback RabbitMQ — and never touches a remote one."""

from __future__ import annotations

import pytest

from services.local_broker import ensure_broker

pytestmark = pytest.mark.unit

LOCAL = "amqp://guest:guest@127.0.0.1:5672/"


class Machine:
    """A fake machine: whether the broker answers, is installed, and what was done to it."""

    def __init__(self, *, up: bool = False, installed: bool = False, root: bool = True, comes_up: bool = True) -> None:
        self.up, self.installed, self.root, self.comes_up = up, installed, root, comes_up
        self.done: list[str] = []

    def reach(self, uri: str) -> bool:
        return self.up

    def locate(self) -> str | None:
        return "/usr/sbin/rabbitmq-server" if self.installed else None

    def allowed(self) -> bool:
        return self.root

    def install(self) -> bool:
        self.done.append("install")
        self.installed = True
        return True

    def start(self, server: str) -> None:
        self.done.append(f"start {server}")
        self.up = self.comes_up

    def ensure(self, uri: str = LOCAL) -> bool:
        return ensure_broker(
            uri,
            reach=self.reach,
            locate=self.locate,
            allowed=self.allowed,
            do_install=self.install,
            do_start=self.start,
            wait_seconds=0.05,
            sleep=lambda _: None,
        )


def test_a_running_broker_is_left_alone() -> None:
    machine = Machine(up=True, installed=True)
    assert machine.ensure() is True
    assert machine.done == []


def test_an_installed_broker_is_started() -> None:
    machine = Machine(installed=True)
    assert machine.ensure() is True
    assert machine.done == ["start /usr/sbin/rabbitmq-server"]


def test_a_missing_broker_is_installed_then_started_when_root_with_apt() -> None:
    machine = Machine(installed=False, root=True)
    assert machine.ensure() is True
    assert machine.done == ["install", "start /usr/sbin/rabbitmq-server"]


def test_without_permission_it_says_how_and_installs_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    machine = Machine(installed=False, root=False)
    assert machine.ensure() is False
    assert machine.done == []
    assert "sudo apt-get install rabbitmq-server" in capsys.readouterr().err


def test_a_remote_broker_is_never_installed_or_started(capsys: pytest.CaptureFixture[str]) -> None:
    machine = Machine(installed=True, root=True)
    assert machine.ensure("amqp://guest:guest@rabbit.example:5672/") is False
    assert machine.done == []
    assert "rabbit.example" in capsys.readouterr().err


def test_a_broker_that_never_comes_up_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    machine = Machine(installed=True, comes_up=False)
    assert machine.ensure() is False
    assert "did not come up" in capsys.readouterr().err
