"""Fakes for the reliability core's fast tests: a broker that records what it was asked to publish,
a requests-service database on SQLite with its outbox, inbox and dead-letter tables, and events
staged in its outbox."""

from __future__ import annotations

from pathlib import Path

from services.common import outbox
from services.common.broker import BatchResult, Outgoing, PublishError
from services.common.db import Store, make_engine
from services.common.envelope import make_event
from services.requests.models import Base, Outbox


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


def stage(store: Store, n: int, data: dict | None = None) -> list[dict]:
    """``n`` case.closed events recorded in the outbox in one transaction (``data``, else their number)."""
    events = [
        make_event(source_service="requests", type="case.closed", subject=f"c{i}", tenant="t",
                   data=data if data is not None else {"i": i})
        for i in range(n)
    ]  # fmt: skip
    with store.transaction() as session:
        for event in events:
            outbox.record(session, Outbox, event)
    return events
