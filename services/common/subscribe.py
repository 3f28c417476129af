"""The event-handler entrypoint: at-least-once delivery with retries and a dead-letter store.

nameko's own handler acks a failed message and forgets it (or, with requeue, hot-loops).
Here a failure is republished to a delay queue (backoff) with its attempt count; after
``DLQ_MAX_ATTEMPTS`` it is written to the service's dead-letter table for an operator.
The original is acked only once its retry or dead letter is safely stored.

An outage is not the message's fault: while the service's database is unreachable (the driver's
connection errors, a pool timeout) a failure is retried with the same backoff but does not use
up the message's attempts, so a database stopped for longer than the retry chain dead-letters
nothing (the reliability harness's postgres-stop lost cases that way) and every event is handled
once the database is back.
"""

from __future__ import annotations

import json
import logging
import traceback
from dataclasses import dataclass
from typing import Any

import eventlet
from marshmallow import ValidationError
from nameko.events import EventHandler
from nameko.messaging import Consumer
from sqlalchemy import exc as sa_exc

from services.common import metrics, topology
from services.common.broker import ConfirmingPublisher, Outgoing
from services.common.config import configured, retry_delays
from services.common.database import database_of
from services.common.ids import new_id

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-lianxin-attempts"
OUTAGES_HEADER = "x-lianxin-outages"  # failures because the database was unreachable (not counted as attempts)
ERROR_HEADER = "x-lianxin-error"
# Errors no retry can fix: go straight to the dead-letter store.
PERMANENT = (ValidationError, KeyError, TypeError)
# The database is unreachable (stopped, restarting, network): the message is not at fault.
OUTAGE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def is_outage(exc: BaseException) -> bool:
    """The service's database could not be reached, or dropped the connection."""
    return isinstance(exc, OUTAGE) or (isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated))


@dataclass(frozen=True)
class Next:
    """What becomes of a failed message: retried after ``delay`` with ``headers``, or dead-lettered."""

    retry: bool
    delay: float
    headers: dict
    attempt: int


def next_step(headers: dict, exc: BaseException, delays: tuple[float, ...], max_attempts: int) -> Next:
    """The retry rule in one place: permanent errors dead-letter at once; an outage retries with
    backoff without using an attempt; anything else retries until ``max_attempts``."""
    attempts = int(headers.get(ATTEMPTS_HEADER, 0))
    if is_outage(exc):
        outages = int(headers.get(OUTAGES_HEADER, 0)) + 1
        delay = delays[min(outages - 1, len(delays) - 1)]
        return Next(True, delay, headers | {OUTAGES_HEADER: outages}, attempts)
    attempt = attempts + 1
    if not isinstance(exc, PERMANENT) and attempt < max_attempts:
        delay = delays[min(attempt - 1, len(delays) - 1)]
        return Next(True, delay, headers | {ATTEMPTS_HEADER: attempt}, attempt)
    return Next(False, 0.0, headers, attempt)


def json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


class Subscription(EventHandler):
    """``@subscribe("requests", "case.closed")`` on a service method taking the envelope."""

    def setup(self) -> None:
        config = self.container.config
        self.subscription = topology.Subscription(
            self.source_service, self.event_type, self.container.service_name, self.method_name
        )
        self.queue = topology.event_queue(self.subscription, config)
        self.delays = retry_delays(configured(config, "RETRY_DELAYS"))
        self.max_attempts = int(configured(config, "DLQ_MAX_ATTEMPTS"))
        self.publisher = ConfirmingPublisher(config["AMQP_URI"])
        Consumer.setup(self)

    def stop(self) -> None:
        super().stop()
        self.publisher.close()

    def handle_result(self, message: Any, worker_ctx: Any, result: Any = None, exc_info: Any = None):
        if exc_info is not None:
            try:
                self._retry_or_dead_letter(message, exc_info)
            except Exception:
                log.exception("%s: could not store a retry; requeueing in 1s", self.queue.name)
                eventlet.sleep(1.0)
                self.queue_consumer.requeue_message(message)
                return result, exc_info
        elif not metrics.was_duplicate(worker_ctx):  # the inbox counted a duplicate already
            metrics.count_event(self.container.service_name, self.event_type, "ok")
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def _retry_or_dead_letter(self, message: Any, exc_info: Any) -> None:
        headers = {k: v for k, v in (message.headers or {}).items() if k != "x-death"}
        exc = exc_info[1]
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        step = next_step(headers, exc, self.delays, self.max_attempts)
        if step.retry:
            self.publisher.publish(
                Outgoing(
                    exchange=topology.delay_name(step.delay),
                    routing_key=self.queue.name,
                    body=_raw_body(message),
                    message_id=message.properties.get("message_id") or new_id(),
                    headers=step.headers | {ERROR_HEADER: error[:500]},
                )
            )
            what = "database unreachable" if is_outage(exc) else f"attempt {step.attempt} failed"
            log.warning("%s: %s (%s); retry in %ss", self.queue.name, what, error, step.delay)
            metrics.count_event(self.container.service_name, self.event_type, "retry")
            return
        store_dead_letter(self.container, self.queue.name, message, headers, step.attempt, exc_info)
        metrics.count_event(self.container.service_name, self.event_type, "dead_lettered")
        log.error("%s: dead-lettered after %d attempts: %s", self.queue.name, step.attempt, error)


def _raw_body(message: Any) -> bytes:
    """The message body as sent (kombu may hand it over as bytes or as already-decoded text)."""
    body = message.body
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, ensure_ascii=False).encode()


def store_dead_letter(container: Any, queue: str, message: Any, headers: dict, attempts: int, exc_info: Any) -> str:
    database = database_of(container)
    dead_letter_model = database.models[2]
    raw = _raw_body(message).decode("utf-8", errors="replace")
    try:
        event = json.loads(raw)
    except ValueError:
        event = {}
    event = event if isinstance(event, dict) else {}
    letter_id = new_id()
    with database.open().transaction() as session:
        session.add(
            dead_letter_model(
                id=letter_id,
                queue=queue,
                event_id=str(event.get("id"))[:36] if event.get("id") else None,
                event_type=str(event.get("type"))[:64] if event.get("type") else None,
                body=raw,
                headers=json_safe({k: v for k, v in headers.items() if k not in (ATTEMPTS_HEADER, OUTAGES_HEADER)}),
                attempts=attempts,
                error="".join(traceback.format_exception(*exc_info))[-8000:],
            )
        )
    return letter_id


subscribe = Subscription.decorator
