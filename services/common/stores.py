"""The operator's way to a service's database: the platform's, never an accidental new one.

Used by the ``lianxin`` command line and by ``make run`` alike. With the embedded default
(SQLite under the var directory) a database that does not exist is an error that says where it
was looked for and how to point at the data: opening it would create an empty file and fail on
the first missing table.
"""

from __future__ import annotations

import sys
from pathlib import Path

from services.common import migrate, topology
from services.common.config import SERVICES, database_url, service_config
from services.common.db import Store, make_engine


class NoData(SystemExit):
    """The embedded default's database is not where it was looked for: say where, never create it."""


def store(service: str) -> Store:
    """The service's database; with the embedded default, only one that exists (``make run`` makes it)."""
    url = database_url(service, create=False)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            print(
                f"lianxin: no {service} database at {path}.\n"
                f"  Looked in {path.parent} (LIANXIN_VAR_DIR, else the project's var/).\n"
                "  Start the platform once (`make run`, or `lianxin migrate`) to create it, or point\n"
                f"  LIANXIN_VAR_DIR (or {service.upper()}_DATABASE_URL) at the data you mean.",
                file=sys.stderr,
            )
            raise NoData(2)
    return Store(make_engine(url))


def migrate_all(services: list[str] | None = None) -> None:
    """Every service's database to its newest schema (each owns its migrations)."""
    for service in services or SERVICES:
        migrate.upgrade(service, database_url(service))
        print(f"migrated {service}")


def declare_topology() -> None:
    """The exchanges and event queues every service expects (idempotent)."""
    count = topology.declare(service_config("gateway"))
    print(f"declared {len(SERVICES)} exchanges and {count} event queues")
