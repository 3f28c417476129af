"""The harness's own PostgreSQL cluster: stopped, started and killed on its own, while the machine's
PostgreSQL (127.0.0.1:5432, shared with everyone on this machine) keeps running, same OS process.

The machine's PostgreSQL is only read here: a ``select 1`` and which pid listens on 5432.
"""

import os

import pytest
from sqlalchemy import text

from bench.pg_cluster import PgCluster
from bench.rabbit_node import alive
from services.common.db import make_engine
from tests.support.infra import listening_pid

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

MACHINE_URL = os.environ.get("CI_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MACHINE_PORT = int(MACHINE_URL.split("@", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


def answer(url: str, sql: str) -> object:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def test_own_cluster_is_stopped_started_and_killed_while_the_machine_database_is_untouched(tmp_path):
    machine_pid = listening_pid(MACHINE_PORT)
    assert machine_pid and answer(MACHINE_URL, "select 1") == 1, "the machine's PostgreSQL should be running"

    cluster = PgCluster(tmp_path / "postgres")
    try:
        cluster.start()
        first = cluster.pid
        assert cluster.port != MACHINE_PORT and listening_pid(cluster.port) == first
        assert answer(cluster.url, "show data_directory") == str(cluster.data)
        answer(cluster.url, "create table kept as select 7 as n; select count(*) from kept")

        assert cluster.stop() == first
        assert not cluster.reachable() and not alive(first) and cluster.pid is None
        # The machine's PostgreSQL is still there, the same OS process.
        assert answer(MACHINE_URL, "select 1") == 1 and listening_pid(MACHINE_PORT) == machine_pid

        cluster.start()
        second = cluster.pid
        assert second is not None and second != first and cluster.reachable()
        assert answer(cluster.url, "select n from kept") == 7  # same data directory

        assert cluster.kill() == second
        assert not cluster.reachable() and not alive(second)
        assert answer(MACHINE_URL, "select 1") == 1 and listening_pid(MACHINE_PORT) == machine_pid

        cluster.start()  # recovers from the crash
        assert cluster.pid not in (None, first, second) and answer(cluster.url, "select n from kept") == 7
    finally:
        cluster.drop()
    assert not cluster.data.exists() and listening_pid(cluster.port) is None
    assert listening_pid(MACHINE_PORT) == machine_pid
