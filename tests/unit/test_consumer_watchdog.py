"""A service whose broker consumers stay down kills itself, to be restarted by its supervisor.

These run a real nameko ``ServiceContainer``: a fake container once hid that calling
``container.kill`` from the watchdog's own managed thread never lets the container die.
"""

import eventlet
import pytest
from nameko.containers import ServiceContainer

from services.common.health import ConsumersLost, Health, Probes

pytestmark = pytest.mark.unit


class Watched:
    name = "watched"
    health = Health()


@pytest.fixture
def container():
    made = ServiceContainer(Watched, {"CONSUMER_WATCHDOG_SECONDS": "0.2", "AMQP_URI": "memory://"})
    yield made
    if not made._died.ready() and not made._being_killed:  # a hung kill would hang here too
        made.kill()


def broker(monkeypatch, healthy):
    def check_consumers(self):
        if not healthy:
            raise ConnectionError("the broker connection is lost")

    monkeypatch.setattr(Probes, "check_consumers", check_consumers)


def test_consumers_down_past_the_grace_period_kill_the_container(container, monkeypatch):
    broker(monkeypatch, healthy=False)
    container.start()
    with eventlet.Timeout(5, AssertionError("the container never died")), pytest.raises(ConsumersLost) as died:
        container.wait()
    assert str(died.value) == "the broker connection is lost"
    assert container._managed_threads == {}
    assert container.started is False


def test_healthy_consumers_are_left_alone_and_stop_ends_the_watch(container, monkeypatch):
    broker(monkeypatch, healthy=True)
    container.start()
    eventlet.sleep(0.5)
    assert not container._died.ready()
    with eventlet.Timeout(5, AssertionError("stop hung")):
        container.stop()
    assert container._died.ready()
    assert container._managed_threads == {}
