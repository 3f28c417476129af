"""The harness's own RabbitMQ node: killed, restarted and alarmed on its own, while the machine's
broker (127.0.0.1:5672, shared with everyone on this machine) keeps running, same OS process.

The machine's broker is only read here: an AMQP connection and which pid listens on 5672.
"""

import os
from pathlib import Path

import pytest
from kombu import Exchange, Queue

from bench.rabbit_node import RabbitNode, alive, process_group
from services.common.broker import connect
from tests.support.infra import listening_pid, wait_for

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(240)]

MACHINE_URI = os.environ.get("TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
MACHINE_PORT = int(MACHINE_URI.split("@", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


def reachable(uri: str) -> bool:
    try:
        connect(uri, timeout=3).release()
        return True
    except Exception:
        return False


def round_trip(uri: str, body: str) -> str:
    exchange = Exchange("node-test", type="direct", durable=False)
    queue = Queue("node-test", exchange, routing_key="k", durable=False, auto_delete=False)
    conn = connect(uri)
    try:
        with conn.Producer() as producer:
            producer.publish(body, exchange=exchange, routing_key="k", declare=[queue], serializer="json")
        message = wait_for(lambda: queue(conn.channel()).get(no_ack=True), timeout=10, interval=0.2)
        return message.payload
    finally:
        conn.release()


def test_own_node_is_killed_restarted_and_alarmed_while_the_machine_broker_is_untouched(tmp_path):
    machine_pid = listening_pid(MACHINE_PORT)
    assert machine_pid and reachable(MACHINE_URI), "the machine's broker should be running"

    node = RabbitNode(tmp_path / "rabbitmq")
    try:
        first = node.start()
        assert node.started_in < 60
        assert node.port != MACHINE_PORT and listening_pid(node.port) == first
        assert Path(f"/proc/{first}/comm").read_text().strip() == "beam.smp"
        assert round_trip(node.uri, "你好") == "你好"

        assert node.kill() == first
        assert not node.reachable() and not alive(first) and node.processes() == []
        # The machine's broker is still there, the same OS process.
        assert reachable(MACHINE_URI) and listening_pid(MACHINE_PORT) == machine_pid

        second = node.restart()
        assert second != first and node.reachable()
        assert round_trip(node.uri, "again") == "again"

        assert node.alarms() == []
        node.set_memory_alarm(True)
        assert wait_for(node.alarms, timeout=10, interval=0.5) == ["memory"]
        node.set_memory_alarm(False)
        wait_for(lambda: node.alarms() == [], timeout=10, interval=0.5)
        assert node.watermark == 0.4  # what the node's config sets, and what was restored
        assert "vm_memory_high_watermark.relative = 0.4" in (tmp_path / "rabbitmq" / "rabbitmq.conf").read_text()
    finally:
        group = node.proc.pid if node.proc else None
        node.stop()
    assert node.proc.returncode is not None and not alive(second)
    assert node.processes() == [] and process_group(group) == []
    assert reachable(MACHINE_URI) and listening_pid(MACHINE_PORT) == machine_pid
