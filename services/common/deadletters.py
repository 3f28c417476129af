"""Operating the dead-letter stores: list them and replay into the original queue."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from services.common.broker import ConfirmingPublisher, Outgoing
from services.common.db import Store, utcnow


@dataclass(frozen=True)
class Letter:
    service: str
    id: str
    queue: str
    event_type: str | None
    event_id: str | None
    attempts: int
    error: str
    created_at: datetime
    replayed_at: datetime | None

    def summary(self) -> dict:
        return {
            "service": self.service,
            "id": self.id,
            "queue": self.queue,
            "event_type": self.event_type,
            "event_id": self.event_id,
            "attempts": self.attempts,
            "error": self.error.strip().splitlines()[-1] if self.error.strip() else "",
            "created_at": self.created_at.isoformat(),
            "replayed_at": self.replayed_at.isoformat() if self.replayed_at else None,
        }


def list_letters(service: str, store: Store, model: type, include_replayed: bool = False) -> Iterator[Letter]:
    with store.read() as session:
        query = select(model).order_by(model.created_at)
        if not include_replayed:
            query = query.where(model.replayed_at.is_(None))
        for row in session.scalars(query):
            yield Letter(
                service,
                row.id,
                row.queue,
                row.event_type,
                row.event_id,
                row.attempts,
                row.error,
                row.created_at,
                row.replayed_at,
            )


def replay(store: Store, model: type, publisher: ConfirmingPublisher, letter_id: str | None = None) -> int:
    """Send letters (one, or every unreplayed one) back to their queue with a fresh budget."""
    replayed = 0
    with store.transaction() as session:
        query = select(model).where(model.replayed_at.is_(None)).with_for_update(skip_locked=True)
        if letter_id is not None:
            query = query.where(model.id == letter_id)
        for row in session.scalars(query).all():
            publisher.publish(
                Outgoing(
                    exchange="",
                    routing_key=row.queue,
                    body=row.body.encode(),
                    message_id=row.event_id or row.id,
                    headers=row.headers or {},
                )
            )
            row.replayed_at = utcnow()
            replayed += 1
    return replayed
