"""Sends queued deliveries on their channels, with retries; runs beside the handlers.

Like the outbox relay it claims rows with SKIP LOCKED, so several instances share the work.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from nameko.extensions import DependencyProvider
from sqlalchemy import select

from services.common.database import database_of
from services.common.db import Store, utcnow
from services.notifications import deliveries
from services.notifications.channels.base import Channel, Failed
from services.notifications.channels.log import LogChannel
from services.notifications.models import Contact

log = logging.getLogger(__name__)


def build_channels(names: list[str]) -> dict[str, Channel]:
    """The external channels enabled by ``NOTIFY_CHANNELS`` (in-app needs no sender)."""
    available: dict[str, Any] = {"log": LogChannel}
    return {name: available[name]() for name in names if name in available}


class Dispatch:
    def __init__(self, store: Store, channels: dict[str, Channel], batch: int = 100) -> None:
        self.store = store
        self.channels = channels
        self.batch = batch

    def run_once(self) -> int:
        with self.store.transaction(notify=False) as session:
            now = utcnow()
            rows = deliveries.due(session, now, self.batch)
            for delivery in rows:
                channel = self.channels.get(delivery.channel)
                if channel is None:
                    result = Failed(f"channel {delivery.channel} is not configured")
                else:
                    email = session.scalar(
                        select(Contact.email).where(
                            Contact.tenant == delivery.tenant, Contact.phone == delivery.recipient_phone
                        )
                    )
                    result = channel.send(deliveries.message_for(delivery, email))
                deliveries.record_result(delivery, result, now)
            return len(rows)


class Dispatcher(DependencyProvider):
    """Runs :class:`Dispatch` in a managed green thread, woken by commits."""

    def setup(self) -> None:
        config = self.container.config
        names = [n.strip() for n in str(config.get("NOTIFY_CHANNELS", "inapp,log")).split(",") if n.strip()]
        self.channel_names = names
        store = database_of(self.container).open()
        self.dispatch = Dispatch(store, build_channels(names))
        self.wake = threading.Event()
        self.running = True
        store.on_commit(self.wake.set)

    def start(self) -> None:
        self._thread = self.container.spawn_managed_thread(self._loop)

    def _loop(self) -> None:
        while self.running:
            try:
                sent = self.dispatch.run_once()
            except Exception:
                log.exception("notification dispatch failed; retrying")
                sent = 0
            if sent < self.dispatch.batch:
                self.wake.wait(1.0)
                self.wake.clear()

    def stop(self) -> None:
        self.running = False
        self.wake.set()
        self._thread.wait()

    def kill(self) -> None:
        self.running = False
        self.wake.set()

    def get_dependency(self, worker_ctx: Any) -> list[str]:
        return self.channel_names
