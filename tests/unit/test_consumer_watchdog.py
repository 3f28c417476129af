"""A service whose broker consumers stay down kills itself, to be restarted by its supervisor."""

import threading

import eventlet
import pytest

from services.common.health import ConsumersLost, Health

pytestmark = pytest.mark.unit


class Container:
    def __init__(self):
        self.config = {"CONSUMER_WATCHDOG_SECONDS": "0.2"}
        self.killed_with = None
        self.threads = []

    def spawn_managed_thread(self, fn, identifier=None):
        self.threads.append(eventlet.spawn(fn))

    def kill(self, exc_info):
        self.killed_with = exc_info[1]


class Probes:
    service = "requests"

    def __init__(self, healthy):
        self.healthy = healthy

    def check_consumers(self):
        if not self.healthy:
            raise ConnectionError("the broker connection is lost")


def watchdog(healthy):
    health = Health()
    health.container = Container()
    health.probes, health._started, health._watching = Probes(healthy), {}, False
    health._stopped = threading.Event()
    health.start()
    return health


def test_consumers_down_past_the_grace_period_kill_the_container():
    health = watchdog(healthy=False)
    eventlet.sleep(0.5)
    assert isinstance(health.container.killed_with, ConsumersLost)
    assert str(health.container.killed_with) == "the broker connection is lost"


def test_healthy_consumers_are_left_alone_and_stop_ends_the_watch():
    health = watchdog(healthy=True)
    eventlet.sleep(0.5)
    health.stop()
    eventlet.sleep(0.1)
    assert health.container.killed_with is None
    assert all(thread.dead for thread in health.container.threads)
