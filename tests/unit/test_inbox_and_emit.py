"""The service database's worker side on SQLite: the inbox applies an event once per handler and
wakes the relay only when something committed; ``emit`` stages the event in the caller's
transaction with the request's trace; the providers open one store and run one relay loop."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.common import metrics
from services.common.database import Access, Database, OutboxRelay, database_of
from services.common.db import Store
from services.common.envelope import make_event
from services.requests.models import Base, DeadLetter, Inbox, Outbox
from tests.support.reliability import requests_store

pytestmark = pytest.mark.unit

MODELS = (Outbox, Inbox, DeadLetter)


class Container:
    def __init__(self, config=None, service_name="requests", dependencies=()) -> None:
        self.config = config or {}
        self.service_name = service_name
        self.dependencies = list(dependencies)
        self.spawned = []

    def spawn_managed_thread(self, run):
        self.spawned.append(run)
        return Thread()


class Thread:
    waited = 0

    def wait(self) -> None:
        self.waited += 1


class Worker:
    def __init__(self, data=None, service_name="inbox-worker") -> None:
        self.data = data or {}
        self.service_name = service_name


@pytest.fixture
def store(tmp_path):
    store = requests_store(tmp_path)
    yield store
    store.engine.dispose()


def provider(store, service_name="requests"):
    database = Database(Base, MODELS)
    database.container = Container(service_name=service_name)
    database.store = store
    return database


def an_event(type="survey.answered"):
    return make_event(source_service="surveys", type=type, subject="s", tenant="t", data={})


def inbox_rows(store):
    with store.read() as session:
        return [(row.event_id, row.handler, row.event_type) for row in session.scalars(select(Inbox))]


def test_the_inbox_records_the_event_for_the_handler_and_wakes_the_relay_once(store):
    woken = []
    store.on_commit(lambda: woken.append(1))
    access = Access(provider(store), {})
    event = an_event()
    with access.inbox(event, "on_answer") as session:
        assert session is not None
    assert inbox_rows(store) == [(event["id"], "on_answer", "survey.answered")]
    assert woken == [1]
    with access.inbox(event, "on_answer") as session:
        assert session is None
    assert woken == [1]  # a duplicate commits nothing and wakes nobody


def test_a_duplicate_is_counted_once_on_the_worker(store):
    worker = Worker(service_name="inbox-dup")
    access = Access(provider(store), worker.data, worker)
    event = an_event("case.closed")
    duplicates = metrics.EVENTS_HANDLED.labels("inbox-dup", "case.closed", "duplicate")
    before = duplicates._value.get()  # the counter is the process's: count what this test adds
    for _ in range(2):
        with access.inbox(event, "h"):
            pass
    assert metrics.was_duplicate(worker)
    assert duplicates._value.get() - before == 1


def test_the_handlers_work_commits_with_its_inbox_row(store):
    access = Access(provider(store), {})
    event = an_event()
    with access.inbox(event, "h") as session:
        access.emit(session, "visit.scheduled", "v1", "t", {"n": 1})
    with store.read() as session:
        assert session.scalars(select(Outbox.type)).all() == ["visit.scheduled"]


def test_a_failing_handler_rolls_back_its_work_and_its_inbox_row(store):
    access = Access(provider(store), {})
    event = an_event()
    with pytest.raises(KeyboardInterrupt), access.inbox(event, "h") as session:
        access.emit(session, "visit.scheduled", "v1", "t", {})
        raise KeyboardInterrupt
    assert inbox_rows(store) == []
    with store.read() as session:
        assert session.scalars(select(Outbox)).all() == []


def test_emit_stages_the_event_with_the_request_context(store):
    access = Access(provider(store, "volunteers"), {"traceparent": "00-t-s-01", "requestid": "r-9"})
    with access.transaction() as session:
        event = access.emit(session, "visit.scheduled", "v1", "t1", {"visit_id": "v1"})
    assert (event["source"], event["type"], event["subject"], event["tenant"], event["data"]) == (
        "lianxin/volunteers",
        "visit.scheduled",
        "v1",
        "t1",
        {"visit_id": "v1"},
    )
    assert (event["traceparent"], event["requestid"]) == ("00-t-s-01", "r-9")
    with access.read() as session:
        [row] = session.scalars(select(Outbox)).all()
    assert (row.event_id, row.type, row.subject, row.tenant, row.body) == (
        event["id"],
        "visit.scheduled",
        "v1",
        "t1",
        event,
    )


def test_an_event_is_staged_in_the_callers_transaction_and_rolls_back_with_it(store):
    """The outbox's one rule: the event is written with the change, before its commit, or not at all."""
    access = Access(provider(store), {})
    with access.transaction() as session:
        event = access.emit(session, "case.closed", "c1", "t", {})
        assert session.scalars(select(Outbox.event_id)).all() == [event["id"]]  # there before the commit
    with pytest.raises(RuntimeError), access.transaction() as session:
        access.emit(session, "case.closed", "c2", "t", {})
        raise RuntimeError("the change failed")
    with store.read() as session:
        assert session.scalars(select(Outbox.subject)).all() == ["c1"]


def test_emit_takes_the_request_id_under_either_name_and_leaves_out_what_is_missing(store):
    access = Access(provider(store), {"request_id": "r-1"})
    with access.transaction() as session:
        assert access.emit(session, "x", "s", "t", {})["requestid"] == "r-1"
    access = Access(provider(store), {})
    with access.transaction() as session:
        event = access.emit(session, "x", "s", "t", {})
    assert "traceparent" not in event and "requestid" not in event


def test_the_database_provider_opens_one_store_from_its_config(tmp_path):
    database = Database(Base, MODELS)
    assert database.models == MODELS and database.base is Base and database.store is None
    database.container = Container({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"})
    database.setup()
    store = database.store
    assert isinstance(store, Store) and str(store.engine.url).endswith("x.sqlite3")
    assert database.open() is store
    access = database.get_dependency(Worker({"requestid": "r"}))
    assert (access.store, access.context, access.worker_ctx.data) == (store, {"requestid": "r"}, {"requestid": "r"})
    database.stop()
    Database(Base, MODELS).stop()  # never opened: nothing to close


def test_database_of_finds_the_provider_or_says_which_service_lacks_it(store):
    database = provider(store)
    assert database_of(Container(dependencies=[object(), database])) is database
    with pytest.raises(LookupError, match=r"^service gateway declares no Database dependency$"):
        database_of(Container(service_name="gateway", dependencies=[object()]))


def relay_provider(store, config):
    database = provider(store)
    relay = OutboxRelay()
    relay.container = Container(config, "requests", [database])
    return relay, database


def test_the_outbox_relay_provider_reads_its_settings_and_is_woken_by_commits(store):
    relay, database = relay_provider(
        store, {"AMQP_URI": "amqp://main", "RELAY_BATCH_SIZE": "7", "RELAY_POLL_SECONDS": "0.25"}
    )
    relay.setup()
    assert relay.publisher.amqp_uri == "amqp://main"
    assert (relay.relay.store, relay.relay.outbox, relay.relay.batch_size) == (store, Outbox, 7)
    assert relay.relay.publisher is relay.publisher
    assert (relay.loop.relay, relay.loop.poll_seconds, relay.loop.service) == (relay.relay, 0.25, "requests")
    assert relay.get_dependency(Worker()) is relay.relay
    assert not relay.loop.wake.is_set()
    with store.transaction():
        pass
    assert relay.loop.wake.is_set()


def test_the_outbox_relay_may_use_its_own_broker_and_the_default_settings(store):
    relay, _ = relay_provider(store, {"AMQP_URI": "amqp://main", "OUTBOX_AMQP_URI": "amqp://outbox"})
    relay.setup()
    assert relay.publisher.amqp_uri == "amqp://outbox"
    assert (relay.relay.batch_size, relay.loop.poll_seconds) == (200, 0.5)


def test_the_outbox_relay_runs_one_loop_and_stops_it(store):
    relay, _ = relay_provider(store, {"AMQP_URI": "amqp://main"})
    relay.setup()
    closed = []
    relay.publisher.close = lambda: closed.append(1)
    relay.start()
    assert relay.container.spawned == [relay.loop.run]
    relay.stop()
    assert relay.loop.running is False and relay._thread.waited == 1 and closed == [1]
    relay.loop.running = True
    relay.kill()
    assert relay.loop.running is False and closed == [1, 1]
