"""Machine preparation before `make test` (and `make integration`, `reliability`, `bench`): a
reachable RabbitMQ (installed and started when allowed), and TEST_DATABASE_URL's PostgreSQL."""

from __future__ import annotations

import os
import sys

from services.common.config import setting
from services.local_broker import ensure_broker


def main() -> int:
    if not ensure_broker(setting("AMQP_URI")):
        return 1
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        from sqlalchemy import text

        from services.common.db import make_engine

        engine = make_engine(url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        print(f"PostgreSQL reachable for tests: {url}")
    print("test prerequisites ready: RabbitMQ reachable")
    return 0


if __name__ == "__main__":
    sys.exit(main())
