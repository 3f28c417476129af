"""Publishing to RabbitMQ with publisher confirms, batched, mandatory.

nameko's EventDispatcher publishes without ``mandatory`` and one confirm at a time; the
outbox relay and the retry path use this instead: a whole batch is written, then the
broker's acks are awaited once. A batch that is not fully confirmed in time raises
:class:`PublishError` and the caller keeps its rows for the next try.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

import amqp
from kombu import Connection

log = logging.getLogger(__name__)


class PublishError(Exception):
    """The broker did not confirm the batch (down, blocked, or nacked)."""


@dataclass
class Outgoing:
    exchange: str
    routing_key: str
    body: bytes
    message_id: str
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class BatchResult:
    confirmed: set[str]
    returned: set[str]
    nacked: set[str]


def connect(amqp_uri: str, timeout: float = 10.0) -> Connection:
    """A kombu connection whose socket operations give up after ``timeout``."""
    conn = Connection(
        amqp_uri,
        connect_timeout=min(timeout, 5.0),
        transport_options={"read_timeout": timeout, "write_timeout": timeout},
        heartbeat=0,
    )
    conn.connect()
    return conn


class ConfirmingPublisher:
    """One connection and confirm-mode channel, reconnected after any failure."""

    def __init__(self, amqp_uri: str, confirm_timeout: float = 10.0) -> None:
        self.amqp_uri = amqp_uri
        self.confirm_timeout = confirm_timeout
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        self._channel: amqp.Channel | None = None
        self._next_tag = 1
        self._pending: dict[int, str] = {}
        self._confirmed: set[str] = set()
        self._nacked: set[str] = set()
        self._returned: set[str] = set()

    def _open(self) -> amqp.Channel:
        if self._channel is not None and self._conn is not None and self._conn.connected:
            return self._channel
        self.close()
        self._conn = connect(self.amqp_uri, self.confirm_timeout)
        channel = self._conn.connection.channel()
        channel.confirm_select()
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)
        channel.events["basic_return"].add(self._on_return)
        self._channel = channel
        self._next_tag = 1
        return channel

    def _settle(self, tag: int, multiple: bool, into: set[str]) -> None:
        tags = [t for t in self._pending if t <= tag] if multiple else [tag]
        for t in tags:
            message_id = self._pending.pop(t, None)
            if message_id is not None:
                into.add(message_id)

    def _on_ack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple, self._confirmed)

    def _on_nack(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple, self._nacked)

    def _on_return(self, exc: Exception, exchange: str, routing_key: str, message: amqp.Message) -> None:
        message_id = message.properties.get("message_id")
        if message_id:
            self._returned.add(message_id)

    def publish_batch(self, batch: list[Outgoing]) -> BatchResult:
        """Publish every message persistently and wait for the broker to confirm them all."""
        if not batch:
            return BatchResult(set(), set(), set())
        with self._lock:
            try:
                return self._publish_batch(batch)
            except Exception as exc:
                self.close()
                raise PublishError(f"{type(exc).__name__}: {exc}") from exc

    def _publish_batch(self, batch: list[Outgoing]) -> BatchResult:
        channel = self._open()
        self._pending.clear()
        self._confirmed, self._nacked, self._returned = set(), set(), set()
        for out in batch:
            message = amqp.Message(
                out.body,
                content_type=out.content_type,
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=out.message_id,
                application_headers=out.headers,
            )
            self._pending[self._next_tag] = out.message_id
            self._next_tag += 1
            channel.basic_publish(message, exchange=out.exchange, routing_key=out.routing_key, mandatory=True)
        deadline = time.monotonic() + self.confirm_timeout
        while self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishError(f"{len(self._pending)} messages unconfirmed after timeout")
            self._conn.connection.drain_events(timeout=remaining)
        if self._nacked:
            log.warning("broker nacked %d messages", len(self._nacked))
        return BatchResult(set(self._confirmed), set(self._returned), set(self._nacked))

    def publish(self, out: Outgoing) -> None:
        """Publish one message; raise unless the broker confirmed it into some queue."""
        result = self.publish_batch([out])
        if out.message_id in result.returned:
            raise PublishError(f"unroutable: {out.exchange!r} {out.routing_key!r}")
        if out.message_id not in result.confirmed:
            raise PublishError(f"not confirmed: {out.message_id}")

    def close(self) -> None:
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # the socket may already be gone
                log.debug("closing broker connection failed", exc_info=True)


def bound_nameko_connections(timeout: float = 10.0) -> None:
    """Give every connection nameko opens socket and handshake timeouts.

    nameko's RPC publisher and consumers build kombu connections from its module-level
    DEFAULT_TRANSPORT_OPTIONS, without timeouts. When the broker restarts, a publish that
    reconnects while RabbitMQ is still booting can block forever in the AMQP handshake; a
    handful of those hold every gateway worker (seen in the broker-kill reliability run).
    The options are shared by reference, so extending the dict reaches every connection.
    """
    from nameko.constants import DEFAULT_TRANSPORT_OPTIONS

    DEFAULT_TRANSPORT_OPTIONS.update(
        {"connect_timeout": min(timeout, 5.0), "read_timeout": timeout, "write_timeout": timeout}
    )
