"""nameko dependency providers: the service database, its inbox, and the outbox relay."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nameko.extensions import DependencyProvider
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common import metrics, outbox
from services.common.broker import ConfirmingPublisher
from services.common.config import configured
from services.common.db import Store, make_engine
from services.common.envelope import make_event

log = logging.getLogger(__name__)


class Access:
    """What a worker sees as ``self.db``: transactions, the inbox and event emission."""

    def __init__(self, provider: Database, context: dict[str, Any], worker_ctx: Any = None) -> None:
        self._provider = provider
        self.store = provider.store
        self.context = context
        self.worker_ctx = worker_ctx  # for the duplicate count; None outside a nameko worker

    def transaction(self):  # noqa: ANN201 - a context manager of Session
        return self.store.transaction()

    def read(self):  # noqa: ANN201
        return self.store.read()

    def emit(self, session: Session, type: str, subject: str, tenant: str, data: dict) -> dict:
        """Stage an event from this service in the caller's transaction (outbox)."""
        event = make_event(
            source_service=self._provider.container.service_name,
            type=type,
            subject=subject,
            tenant=tenant,
            data=data,
            traceparent=self.context.get("traceparent"),
            request_id=self.context.get("requestid") or self.context.get("request_id"),
        )
        outbox.record(session, self._provider.models[0], event)
        return event

    @contextmanager
    def inbox(self, event: dict[str, Any], handler: str) -> Iterator[Session | None]:
        """A transaction that applies ``event`` at most once for ``handler``.

        Yields ``None`` when the event was already applied: the caller does nothing. The inbox
        row is written first, so a concurrent duplicate waits on the unique index and then
        finds it taken.
        """
        inbox_model = self._provider.models[1]
        session = self.store.sessions()
        try:
            session.add(inbox_model(event_id=event["id"], handler=handler, event_type=event["type"]))
            try:
                session.flush()
            except IntegrityError:
                session.rollback()
                log.info("duplicate %s %s ignored by %s", event["type"], event["id"], handler)
                if self.worker_ctx is not None:
                    metrics.mark_duplicate(self.worker_ctx, event["type"])
                yield None
                return
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        self.store.notify()


class Database(DependencyProvider):
    """The service's own database (``DATABASE_URL`` in the container config)."""

    def __init__(self, base: type, models: tuple[type, type, type]) -> None:
        self.base = base
        self.models = models  # (Outbox, Inbox, DeadLetter)
        self.store: Store | None = None

    def setup(self) -> None:
        self.open()

    def open(self) -> Store:
        """The store, created on first use: sibling providers may set up before this one."""
        if self.store is None:
            self.store = Store(make_engine(self.container.config["DATABASE_URL"]))
        return self.store

    def stop(self) -> None:
        if self.store is not None:
            self.store.engine.dispose()

    def get_dependency(self, worker_ctx: Any) -> Access:
        return Access(self, worker_ctx.data, worker_ctx)


def database_of(container: Any) -> Database:
    """The container's :class:`Database` provider (used by the relay and the retry path)."""
    for dependency in container.dependencies:
        if isinstance(dependency, Database):
            return dependency
    raise LookupError(f"service {container.service_name} declares no Database dependency")


class OutboxRelay(DependencyProvider):
    """Runs the outbox relay in a managed green thread of the service container."""

    def setup(self) -> None:
        config = self.container.config
        database = database_of(self.container)
        self.publisher = ConfirmingPublisher(config.get("OUTBOX_AMQP_URI") or config["AMQP_URI"])
        self.relay = outbox.Relay(
            database.open(),
            database.models[0],
            self.publisher,
            batch_size=int(configured(config, "RELAY_BATCH_SIZE")),
        )
        self.loop = outbox.RelayLoop(
            self.relay,
            poll_seconds=float(configured(config, "RELAY_POLL_SECONDS")),
            service=self.container.service_name,
        )
        database.open().on_commit(self.loop.nudge)

    def start(self) -> None:
        self._thread = self.container.spawn_managed_thread(self.loop.run)

    def stop(self) -> None:
        self.loop.stop()
        self._thread.wait()
        self.publisher.close()

    def kill(self) -> None:
        self.loop.stop()
        self.publisher.close()

    def get_dependency(self, worker_ctx: Any) -> outbox.Relay:
        return self.relay
