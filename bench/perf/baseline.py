"""The broker's own limit, measured in the same run: raw kombu publish and consume, a nameko hop.

The closed loop's figure means little alone on a shared machine; divided by what the same
broker does for a bare consumer at the same moment it says how much of the limit the
platform reaches.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

from kombu import Consumer, Exchange, Queue

from services.common.broker import ConfirmingPublisher, Outgoing, connect

# About the size of a case.closed envelope.
BODY = json.dumps(
    {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "lianxin/requests",
        "type": "case.closed",
        "data": {"title": "报修 楼道灯不亮" * 4, "reporter": {"name": "住户", "phone": "+8613900000000"}},
        "pad": "x" * 500,
    },
    ensure_ascii=False,
).encode()


def _queue(amqp_uri: str) -> Queue:
    name = f"bench.baseline.{uuid.uuid4().hex[:8]}"
    queue = Queue(name, Exchange(""), routing_key=name, durable=True)
    with connect(amqp_uri) as conn:
        queue(conn.default_channel).declare()
    return queue


def publish_rate(amqp_uri: str, queue: Queue, messages: int, batch: int = 200) -> float:
    """Persistent, mandatory publishes, confirms awaited once per batch (what the outbox relay does)."""
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        started = time.monotonic()
        for first in range(0, messages, batch):
            outgoing = [
                Outgoing(exchange="", routing_key=queue.name, body=BODY, message_id=f"m{n}")
                for n in range(first, min(first + batch, messages))
            ]
            result = publisher.publish_batch(outgoing)
            if len(result.confirmed) != len(outgoing):
                raise RuntimeError(f"baseline publish: {len(outgoing) - len(result.confirmed)} not confirmed")
        return messages / (time.monotonic() - started)
    finally:
        publisher.close()


def consume_rate(amqp_uri: str, queue: Queue, messages: int, prefetch: int = 100) -> float:
    """Consume and ack one by one with a prefetch window: the bare consumer's limit."""
    received = 0

    def on_message(body: object, message: object) -> None:
        nonlocal received
        message.ack()
        received += 1

    with connect(amqp_uri, timeout=30) as conn:
        channel = conn.channel()
        consumer = Consumer(channel, queues=[queue], callbacks=[on_message], accept=None, no_ack=False)
        consumer.qos(prefetch_count=prefetch)
        started = time.monotonic()
        with consumer:
            while received < messages:
                conn.drain_events(timeout=30)
        elapsed = time.monotonic() - started
        queue(channel).delete()
    return messages / elapsed


def hop_rate(amqp_uri: str, events: int) -> float:
    """A nameko event hop (standalone dispatcher → @event_handler), in a process of its own.

    nameko needs eventlet's monkey patching, which the harness (plain threads) does not do.
    """
    out = subprocess.run(
        [sys.executable, "-m", "bench.perf.hop", amqp_uri, str(events)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["nameko_hop_per_s"])


def measure(amqp_uri: str, messages: int, hop_events: int) -> dict[str, float]:
    queue = _queue(amqp_uri)
    published = publish_rate(amqp_uri, queue, messages)
    consumed = consume_rate(amqp_uri, queue, messages)
    return {
        "raw_kombu_publish_per_s": published,
        "raw_kombu_consume_per_s": consumed,
        "nameko_hop_per_s": hop_rate(amqp_uri, hop_events),
    }
