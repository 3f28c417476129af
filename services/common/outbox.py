"""The transactional outbox and its relay.

A change and the events it causes are written in one transaction (:func:`record`); the relay
publishes pending rows in batches with publisher confirms and marks them sent. If the
process dies between publish and mark, the rows go out again: consumers are idempotent.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common import metrics
from services.common.broker import ConfirmingPublisher, Outgoing, PublishError
from services.common.db import Store, utcnow

log = logging.getLogger(__name__)

# Context carried from the event into the message headers, so nameko hands it to the
# consumer's worker context and the next events it causes carry it on.
PROPAGATED = ("traceparent", "requestid")


def record(session: Session, outbox_model: type, event: dict[str, Any]) -> None:
    """Stage ``event`` for publication in the caller's transaction."""
    session.add(
        outbox_model(
            event_id=event["id"],
            type=event["type"],
            subject=event["subject"],
            tenant=event["tenant"],
            body=event,
        )
    )


def exchange_for(source: str) -> str:
    """nameko's event exchange for a service: ``<service>.events``."""
    return f"{source.removeprefix('lianxin/')}.events"


def to_outgoing(event: dict[str, Any]) -> Outgoing:
    headers = {f"nameko.{key}": event[key] for key in PROPAGATED if event.get(key)}
    return Outgoing(
        exchange=exchange_for(event["source"]),
        routing_key=event["type"],
        body=json.dumps(event, ensure_ascii=False).encode(),
        message_id=event["id"],
        headers=headers,
    )


class Relay:
    """Moves outbox rows to the broker; safe to run in several processes at once."""

    def __init__(self, store: Store, outbox_model: type, publisher: ConfirmingPublisher, batch_size: int = 200) -> None:
        self.store = store
        self.outbox = outbox_model
        self.publisher = publisher
        self.batch_size = batch_size
        self.unroutable = 0

    def run_once(self) -> int:
        """Publish one batch; returns how many rows were marked sent."""
        with self.store.transaction(notify=False) as session:
            rows = session.scalars(
                select(self.outbox)
                .where(self.outbox.sent_at.is_(None))
                .order_by(self.outbox.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return 0
            result = self.publisher.publish_batch([to_outgoing(row.body) for row in rows])
            now = utcnow()
            sent = 0
            for row in rows:
                if row.event_id in result.nacked or row.event_id not in result.confirmed:
                    row.attempts += 1
                    row.last_error = "nacked by broker"
                    continue
                if row.event_id in result.returned:
                    # No queue is bound for this type: nobody subscribes to it.
                    self.unroutable += 1
                    row.last_error = "unroutable: no subscriber"
                row.sent_at = now
                row.attempts += 1
                sent += 1
            return sent

    def backlog(self) -> tuple[int, float | None]:
        """Pending rows and the age in seconds of the oldest (for health and metrics)."""
        with self.store.read() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(self.outbox.created_at)).where(self.outbox.sent_at.is_(None))
            ).one()
        age = (utcnow() - oldest).total_seconds() if oldest else None
        return count, age


class RelayLoop:
    """Runs a :class:`Relay` until stopped: woken by commits, polling as a fallback.

    With a ``service`` name it also keeps the outbox gauges of that service current.
    """

    def __init__(
        self, relay: Relay, poll_seconds: float = 0.5, max_backoff: float = 5.0, service: str | None = None
    ) -> None:
        self.relay = relay
        self.poll_seconds = poll_seconds
        self.max_backoff = max_backoff
        self.service = service
        self.wake = threading.Event()
        self.running = True
        self._gauges = metrics.Every(5.0)

    def nudge(self) -> None:
        self.wake.set()

    def run(self) -> None:
        backoff = self.poll_seconds
        while self.running:
            self._report_backlog()
            try:
                sent = self.relay.run_once()
                backoff = self.poll_seconds
            except PublishError as exc:
                log.warning("outbox relay: broker unavailable (%s); retrying in %.1fs", exc, backoff)
                sent = 0
                self._sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            except Exception:
                log.exception("outbox relay: unexpected error; retrying in %.1fs", backoff)
                self._sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            if sent < self.relay.batch_size:
                self._sleep(self.poll_seconds)

    def _report_backlog(self) -> None:
        """Set the outbox gauges, at most every 5 s: one COUNT query must not slow the relay."""
        if self.service is None or not self._gauges.due():
            return
        try:
            count, oldest = self.relay.backlog()
        except Exception as exc:  # the database is down: the relay itself will say so
            log.debug("outbox relay: backlog unavailable (%s)", exc)
            return
        metrics.OUTBOX_BACKLOG.labels(self.service).set(count)
        metrics.OUTBOX_OLDEST_SECONDS.labels(self.service).set(oldest or 0.0)

    def _sleep(self, seconds: float) -> None:
        self.wake.wait(seconds)
        self.wake.clear()

    def stop(self) -> None:
        self.running = False
        self.wake.set()
