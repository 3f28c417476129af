"""Fakes for the reliability core's fast tests: a broker that records what it was asked to publish,
and a requests-service database on SQLite with its outbox, inbox and dead-letter tables."""

from __future__ import annotations

from pathlib import Path

from services.common.broker import BatchResult, Outgoing, PublishError
from services.common.db import Store, make_engine
from services.requests.models import Base


class FakePublisher:
    """Confirms everything except ``nacked`` ids; ``returned`` ids come back unroutable; ``fail`` raises."""

    def __init__(self, fail: bool = False, returned=(), nacked=()) -> None:
        self.fail, self.returned, self.nacked = fail, set(returned), set(nacked)
        self.batches: list[list[Outgoing]] = []

    def publish_batch(self, batch: list[Outgoing]) -> BatchResult:
        if self.fail:
            raise PublishError("broker down")
        self.batches.append(batch)
        ids = {out.message_id for out in batch}
        return BatchResult(ids - self.nacked, self.returned & ids, self.nacked & ids)

    def publish(self, out: Outgoing) -> None:
        self.publish_batch([out])

    @property
    def published(self) -> list[Outgoing]:
        return [out for batch in self.batches for out in batch]


def requests_store(directory: Path) -> Store:
    """The requests service's tables in a fresh SQLite file."""
    store = Store(make_engine(f"sqlite:///{directory}/requests.sqlite3"))
    Base.metadata.create_all(store.engine)
    return store
