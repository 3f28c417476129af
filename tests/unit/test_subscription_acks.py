"""The consumer's side of at-least-once delivery, with a fake broker and SQLite: a failed message is
acked only after its retry is published or its dead letter stored; a retry that cannot be stored
requeues the original; dead letters list and replay with a fresh budget."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime

import pytest
from marshmallow import ValidationError
from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from services.common import deadletters, metrics, subscribe, topology
from services.common.broker import PublishError
from services.common.database import Database
from services.common.subscribe import ATTEMPTS_HEADER, ERROR_HEADER, OUTAGES_HEADER, Subscription
from services.requests.models import Base, DeadLetter, Inbox, Outbox
from tests.support.reliability import FakePublisher, requests_store

pytestmark = pytest.mark.unit

EVENT = {"id": "0190f000-0000-7000-8000-000000000001", "type": "case.closed", "tenant": "t", "data": {}}


class Queue:
    name = "requests.case.closed--surveys.on_case_closed"


class Consumer:
    def __init__(self) -> None:
        self.acked, self.requeued = [], []

    def ack_message(self, message) -> None:
        self.acked.append(message)

    def requeue_message(self, message) -> None:
        self.requeued.append(message)


class Message:
    def __init__(self, body=None, headers=None, message_id="m-1") -> None:
        self.body = json.dumps(EVENT).encode() if body is None else body
        self.headers = headers
        self.properties = {"message_id": message_id} if message_id else {}


class Container:
    def __init__(self, database, service_name) -> None:
        self.dependencies = [object(), database]
        self.service_name = service_name


class Worker:
    pass


@pytest.fixture
def store(tmp_path):
    store = requests_store(tmp_path)
    yield store
    store.engine.dispose()


@pytest.fixture
def sleeps(monkeypatch):
    slept = []
    monkeypatch.setattr(subscribe.eventlet, "sleep", slept.append)
    return slept


def subscription(store, service, publisher=None, max_attempts=3):
    database = Database(Base, (Outbox, Inbox, DeadLetter))
    database.store = store
    made = Subscription("requests", "case.closed")
    made.container = Container(database, service)
    made.queue = Queue()
    made.delays = (0.5, 1.0, 2.0)
    made.max_attempts = max_attempts
    made.publisher = publisher or FakePublisher()
    made.queue_consumer = Consumer()
    return made


def failed(error):
    try:
        raise error
    except BaseException:
        return sys.exc_info()


class Counted:
    """What a test adds to the events-handled counter (it is the process's, shared by every test)."""

    def __init__(self, service) -> None:
        self.service = service
        self.before = {outcome: self.now(outcome) for outcome in ("ok", "duplicate", "retry", "dead_lettered")}

    def now(self, outcome):
        return metrics.EVENTS_HANDLED.labels(self.service, "case.closed", outcome)._value.get()

    def __call__(self, outcome):
        return self.now(outcome) - self.before[outcome]


def letters(store):
    with store.read() as session:
        return session.scalars(select(DeadLetter)).all()


def test_a_handled_message_is_acked_and_counted_once(store):
    counted = Counted("acks-ok")
    sub = subscription(store, "acks-ok")
    message = Message()
    assert sub.handle_result(message, Worker(), "done", None) == ("done", None)
    assert sub.queue_consumer.acked == [message] and sub.queue_consumer.requeued == []
    assert counted("ok") == 1


def test_a_duplicate_the_inbox_counted_is_acked_but_not_counted_as_handled(store):
    counted = Counted("acks-dup")
    sub = subscription(store, "acks-dup")
    worker = Worker()
    worker.service_name = "acks-dup"
    metrics.mark_duplicate(worker, "case.closed")
    sub.handle_result(Message(), worker, None, None)
    assert len(sub.queue_consumer.acked) == 1
    assert (counted("ok"), counted("duplicate")) == (0, 1)


def test_a_failure_is_republished_to_the_delay_queue_then_acked(store):
    publisher = FakePublisher()
    counted = Counted("acks-retry")
    sub = subscription(store, "acks-retry", publisher)
    message = Message(headers={"x-death": [{"count": 1}], "nameko.requestid": "r-1"})
    exc_info = failed(RuntimeError("boom"))
    assert sub.handle_result(message, Worker(), None, exc_info) == (None, exc_info)
    [out] = publisher.published
    assert (out.exchange, out.routing_key, out.message_id) == ("lianxin.retry.500ms", Queue.name, "m-1")
    assert out.body == message.body
    assert out.headers == {"nameko.requestid": "r-1", ATTEMPTS_HEADER: 1, ERROR_HEADER: "RuntimeError: boom"}
    assert sub.queue_consumer.acked == [message]
    assert counted("retry") == 1
    assert letters(store) == []


def test_a_retry_without_a_message_id_gets_a_fresh_one(store):
    publisher = FakePublisher()
    sub = subscription(store, "acks-noid", publisher)
    sub.handle_result(Message(message_id=None), Worker(), None, failed(RuntimeError("boom")))
    [out] = publisher.published
    assert len(out.message_id) == 36 and out.message_id != "m-1"


def test_a_long_error_is_cut_to_500_characters_in_the_retry_header(store):
    publisher = FakePublisher()
    sub = subscription(store, "acks-long", publisher)
    sub.handle_result(Message(), Worker(), None, failed(RuntimeError("x" * 2000)))
    assert publisher.published[0].headers[ERROR_HEADER] == ("RuntimeError: " + "x" * 2000)[:500]


def test_an_outage_retry_keeps_the_attempts(store):
    publisher = FakePublisher()
    sub = subscription(store, "acks-outage", publisher)
    error = sa_exc.OperationalError("SELECT 1", {}, Exception("database is down"))
    sub.handle_result(Message(headers={ATTEMPTS_HEADER: 2}), Worker(), None, failed(error))
    [out] = publisher.published
    assert out.headers[ATTEMPTS_HEADER] == 2 and out.headers[OUTAGES_HEADER] == 1
    assert letters(store) == []


def test_when_the_retry_cannot_be_published_the_message_is_requeued_not_acked(store, sleeps):
    sub = subscription(store, "acks-down", FakePublisher(fail=True))
    message = Message()
    exc_info = failed(RuntimeError("boom"))
    assert sub.handle_result(message, Worker(), None, exc_info) == (None, exc_info)
    assert sub.queue_consumer.acked == [] and sub.queue_consumer.requeued == [message]
    assert sleeps == [1.0]


def test_out_of_attempts_the_message_is_dead_lettered_then_acked(store):
    publisher = FakePublisher()
    counted = Counted("acks-dead")
    sub = subscription(store, "acks-dead", publisher, max_attempts=3)
    message = Message(headers={ATTEMPTS_HEADER: 2, OUTAGES_HEADER: 4, "x-death": [], "nameko.requestid": "r-1"})
    sub.handle_result(message, Worker(), None, failed(RuntimeError("boom")))
    assert publisher.published == []
    assert sub.queue_consumer.acked == [message]
    assert counted("dead_lettered") == 1
    [letter] = letters(store)
    assert (letter.queue, letter.event_id, letter.event_type, letter.attempts) == (
        Queue.name,
        EVENT["id"],
        "case.closed",
        3,
    )
    assert json.loads(letter.body) == EVENT
    assert letter.headers == {"nameko.requestid": "r-1"}
    assert letter.error.startswith("Traceback") and letter.error.endswith("RuntimeError: boom\n")
    assert letter.replayed_at is None


def test_a_permanent_error_is_dead_lettered_on_the_first_attempt(store):
    sub = subscription(store, "acks-perm")
    sub.handle_result(Message(), Worker(), None, failed(ValidationError({"id": ["missing"]})))
    [letter] = letters(store)
    assert letter.attempts == 1


def test_when_the_dead_letter_cannot_be_stored_the_message_is_requeued(store, sleeps):
    sub = subscription(store, "acks-nodb", max_attempts=1)
    store.engine.dispose()
    Base.metadata.drop_all(store.engine)
    message = Message()
    sub.handle_result(message, Worker(), None, failed(RuntimeError("boom")))
    assert sub.queue_consumer.acked == [] and sub.queue_consumer.requeued == [message]


@pytest.mark.parametrize(
    ("body", "event_id", "event_type"),
    [
        (b"not json", None, None),
        (b"[1, 2]", None, None),
        (json.dumps({"id": "i" * 50, "type": "t" * 90}).encode(), "i" * 36, "t" * 64),
        ("text body", None, None),
        ({"id": "d-1", "type": "x"}, "d-1", "x"),
    ],
)
def test_a_dead_letter_keeps_any_body_and_cuts_ids_to_their_columns(store, body, event_id, event_type):
    sub = subscription(store, "acks-body", max_attempts=1)
    sub.handle_result(Message(body=body), Worker(), None, failed(RuntimeError("boom")))
    [letter] = letters(store)
    assert (letter.event_id, letter.event_type) == (event_id, event_type)
    expected = body.decode() if isinstance(body, bytes) else body if isinstance(body, str) else json.dumps(body)
    assert letter.body == expected


def test_raw_body_keeps_non_ascii_text_as_utf8():
    assert subscribe._raw_body(Message(body={"名": "张"})) == '{"名": "张"}'.encode()
    assert subscribe._raw_body(Message(body="张")) == "张".encode()


def test_json_safe_turns_what_json_cannot_hold_into_text():
    when = datetime(2026, 1, 2, 3, 4, 5)
    assert subscribe.json_safe({"at": when, "n": 1}) == {"at": "2026-01-02 03:04:05", "n": 1}


def test_dead_letters_list_and_replay_with_a_fresh_budget(store):
    sub = subscription(store, "acks-replay", max_attempts=1)
    for n in range(2):
        body = json.dumps(EVENT | {"id": f"e-{n}"}).encode()
        sub.handle_result(Message(body=body, headers={"h": n}), Worker(), None, failed(RuntimeError(f"boom {n}")))
    listed = list(deadletters.list_letters("requests", store, DeadLetter))
    assert [(letter.service, letter.event_id, letter.attempts) for letter in listed] == [
        ("requests", "e-0", 1),
        ("requests", "e-1", 1),
    ]
    summary = listed[0].summary()
    assert summary == {
        "service": "requests",
        "id": listed[0].id,
        "queue": Queue.name,
        "event_type": "case.closed",
        "event_id": "e-0",
        "attempts": 1,
        "error": "RuntimeError: boom 0",
        "created_at": listed[0].created_at.isoformat(),
        "replayed_at": None,
    }
    publisher = FakePublisher()
    assert deadletters.replay(store, DeadLetter, publisher, letter_id=listed[1].id) == 1
    [out] = publisher.published
    assert (out.exchange, out.routing_key, out.message_id, out.headers) == ("", Queue.name, "e-1", {"h": 1})
    assert json.loads(out.body) == EVENT | {"id": "e-1"}
    assert [letter.event_id for letter in deadletters.list_letters("requests", store, DeadLetter)] == ["e-0"]
    everything = list(deadletters.list_letters("requests", store, DeadLetter, include_replayed=True))
    assert [letter.replayed_at is not None for letter in everything] == [False, True]
    assert everything[1].summary()["replayed_at"] == everything[1].replayed_at.isoformat()
    assert deadletters.replay(store, DeadLetter, publisher) == 1
    assert deadletters.replay(store, DeadLetter, publisher) == 0
    assert [out.message_id for out in publisher.published] == ["e-1", "e-0"]


def test_a_letter_without_event_id_replays_under_its_own_id(store):
    sub = subscription(store, "acks-anon", max_attempts=1)
    sub.handle_result(Message(body=b"garbage"), Worker(), None, failed(RuntimeError("boom")))
    [letter] = letters(store)
    publisher = FakePublisher()
    deadletters.replay(store, DeadLetter, publisher)
    assert publisher.published[0].message_id == letter.id
    assert publisher.published[0].headers == {}


def test_a_replay_the_broker_refuses_leaves_the_letter_for_later(store):
    sub = subscription(store, "acks-refused", max_attempts=1)
    sub.handle_result(Message(), Worker(), None, failed(RuntimeError("boom")))
    with pytest.raises(PublishError):
        deadletters.replay(store, DeadLetter, FakePublisher(fail=True))
    assert [letter.replayed_at for letter in letters(store)] == [None]


def test_an_empty_error_summarises_as_empty():
    letter = deadletters.Letter("s", "i", "q", None, None, 1, "  \n", datetime(2026, 1, 1), None)
    assert letter.summary()["error"] == ""


class Registry:
    def __init__(self) -> None:
        self.registered, self.unregistered = [], []

    def register_provider(self, provider) -> None:
        self.registered.append(provider)

    def unregister_provider(self, provider) -> None:
        self.unregistered.append(provider)


def test_setup_reads_the_retry_settings_and_names_the_queue(store):
    made = Subscription("requests", "case.closed")
    made.method_name = "on_case_closed"
    made.container = Container(None, "surveys")
    made.container.config = {"AMQP_URI": "amqp://main", "RETRY_DELAYS": "1,2", "DLQ_MAX_ATTEMPTS": "4"}
    made.queue_consumer = Registry()
    made.setup()
    assert made.subscription == topology.Subscription("requests", "case.closed", "surveys", "on_case_closed")
    assert made.queue.name == made.subscription.queue_name
    assert (made.delays, made.max_attempts, made.publisher.amqp_uri) == ((1.0, 2.0), 4, "amqp://main")
    assert made.queue_consumer.registered == [made]
    closed = []
    made.publisher.close = lambda: closed.append(1)
    made.stop()
    assert made.queue_consumer.unregistered == [made] and closed == [1]


def test_setup_falls_back_to_the_default_retry_settings(store):
    made = Subscription("requests", "case.closed")
    made.method_name = "on_case_closed"
    made.container = Container(None, "surveys")
    made.container.config = {"AMQP_URI": "amqp://main"}
    made.queue_consumer = Registry()
    made.setup()
    assert (made.delays, made.max_attempts) == ((1.0, 5.0, 30.0, 120.0, 600.0), 6)


def test_dead_letters_list_oldest_first_and_replay_all_at_once(store):
    sub = subscription(store, "acks-order", max_attempts=1)
    for n in range(3):
        body = json.dumps(EVENT | {"id": f"e-{n}"}).encode()
        sub.handle_result(Message(body=body), Worker(), None, failed(RuntimeError("boom")))
    with store.transaction() as session:  # stored in one order, created in the reverse
        for row in session.scalars(select(DeadLetter)):
            row.created_at = datetime(2026, 1, 1, 0, 0, 10 - int(row.event_id[-1]))
    listed = [letter.event_id for letter in deadletters.list_letters("requests", store, DeadLetter)]
    assert listed == ["e-2", "e-1", "e-0"]
    assert deadletters.replay(store, DeadLetter, FakePublisher()) == 3


def test_a_dead_letter_of_invalid_utf8_keeps_it_readable(store):
    sub = subscription(store, "acks-bytes", max_attempts=1)
    sub.handle_result(Message(body=b"\xff{"), Worker(), None, failed(RuntimeError("x" * 9000)))
    [letter] = letters(store)
    assert letter.body == "\ufffd{" and letter.event_id is None
    assert len(letter.error) == 8000 and letter.error.endswith("x" * 100 + "\n")


def test_what_the_consumer_logs_says_which_queue_what_failed_and_what_next(store, caplog, sleeps):
    caplog.set_level(logging.WARNING, logger="services.common.subscribe")
    error = RuntimeError("boom")
    error.add_note("while closing c1")
    sub = subscription(store, "acks-logs", FakePublisher(), max_attempts=2)
    sub.handle_result(Message(), Worker(), None, failed(error))
    outage = sa_exc.OperationalError("SELECT 1", {}, Exception("down"))
    sub.handle_result(Message(), Worker(), None, failed(outage))
    sub.handle_result(Message(headers={ATTEMPTS_HEADER: 1}), Worker(), None, failed(error))
    sub.publisher = FakePublisher(fail=True)
    sub.handle_result(Message(), Worker(), None, failed(RuntimeError("boom")))
    q = Queue.name
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", f"{q}: attempt 1 failed (RuntimeError: boom\nwhile closing c1); retry in 0.5s"),
        ("WARNING", f"{q}: database unreachable (sqlalchemy.exc.OperationalError: {outage}); retry in 0.5s"),
        ("ERROR", f"{q}: dead-lettered after 2 attempts: RuntimeError: boom\nwhile closing c1"),
        ("ERROR", f"{q}: could not store a retry; requeueing in 1s"),
    ]
    assert caplog.records[-1].exc_info is not None
