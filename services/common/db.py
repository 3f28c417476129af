"""Database access: one engine per service, one explicit transaction per unit of work.

Drivers must cooperate with eventlet: PostgreSQL goes through pure-Python pg8000 (its
sockets are green once monkey-patched). SQLite is a C call that blocks the hub, so a
service holds at most one SQLite connection and green threads queue for it instead of
spinning on "database is locked".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker


def utcnow() -> datetime:
    """Naive UTC now: SQLite has no time zones, so every stored time is naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def normalise_url(url: str) -> str:
    """Pick the eventlet-friendly driver for PostgreSQL URLs given without one."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+pg8000")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for a service database URL (SQLite file or PostgreSQL)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            pool_size=1,
            max_overflow=0,
            pool_timeout=60,
            connect_args={"timeout": 30, "check_same_thread": False},
            **kwargs,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, **kwargs)


class Store:
    """A service's database: sessions in explicit transactions.

    Used by nameko dependencies, the relay and the command line alike, so there is one way
    to open a transaction in the whole code base.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(bind=engine, expire_on_commit=False)
        self._after_commit: list = []

    def on_commit(self, callback: Any) -> None:
        """Call ``callback()`` after every successful commit (wakes the outbox relay)."""
        self._after_commit.append(callback)

    @contextmanager
    def transaction(self, notify: bool = True) -> Iterator[Session]:
        """Commit on success, roll back on any exception.

        ``notify=False`` for the background loops' own bookkeeping, which must not wake them.
        """
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if notify:
            self.notify()

    def notify(self) -> None:
        for callback in self._after_commit:
            callback()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; closing it ends its transaction and keeps loaded objects usable."""
        session = self.sessions()
        try:
            yield session
        finally:
            session.close()
