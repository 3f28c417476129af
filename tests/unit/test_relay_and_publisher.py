"""The publishing half of the outbox without a broker: the confirming publisher against a scripted
AMQP channel (every message persistent and mandatory, a batch settled only by the broker's acks,
nacks and returns), and the relay loop's backoff and gauges."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from services.common import broker, metrics, outbox
from services.common.broker import BatchResult, ConfirmingPublisher, Outgoing, PublishError
from services.requests.models import Outbox
from tests.support.reliability import FakePublisher, requests_store, stage

pytestmark = pytest.mark.unit


class Channel:
    """Settles what was published when the connection drains: nack, return-then-ack, or ack.

    Delivery tags count from 1 per channel, as RabbitMQ's do."""

    def __init__(self, nack=(), returned=(), silent=False, multiple=False) -> None:
        self.events = {"basic_ack": set(), "basic_nack": set(), "basic_return": set()}
        self.nack, self.returned, self.silent, self.multiple = set(nack), set(returned), silent, multiple
        self.published, self.unsettled, self.confirming = [], [], False

    def confirm_select(self) -> None:
        self.confirming = True

    def basic_publish(self, message, exchange, routing_key, mandatory=False) -> None:
        self.published.append((message, exchange, routing_key, mandatory))
        self.unsettled.append((len(self.published), message))

    def settle(self) -> None:
        if self.silent:
            return
        if self.multiple and not (self.nack or self.returned):
            tag = self.unsettled[-1][0]
            for handler in self.events["basic_ack"]:
                handler(tag, True)
        for tag, message in [] if self.multiple else self.unsettled:
            mid = message.properties["message_id"]
            if mid in self.nack:
                for handler in self.events["basic_nack"]:
                    handler(tag, False)
                continue
            if mid in self.returned:
                for handler in self.events["basic_return"]:
                    handler(Exception("NO_ROUTE"), "x", "k", message)
            for handler in self.events["basic_ack"]:
                handler(tag, False)
        self.unsettled = []


class Connection:
    def __init__(self, channel: Channel, fail_release=False) -> None:
        self.chan, self.connected, self.released, self.fail_release = channel, True, 0, fail_release
        self.connection, self.drains = self, []

    def channel(self) -> Channel:
        return self.chan

    def drain_events(self, timeout) -> None:
        self.drains.append(timeout)
        self.chan.settle()

    def release(self) -> None:
        self.released += 1
        if self.fail_release:
            raise OSError("socket gone")


@pytest.fixture
def connections(monkeypatch):
    made = Made()
    monkeypatch.setattr(broker, "connect", lambda uri, timeout: made.connect(uri, timeout))
    return made


class Made(list):
    def __init__(self) -> None:
        super().__init__()
        self.channels: list[Channel] = []
        self.next_channel = Channel
        self.conns: list[Connection] = []

    def connect(self, uri, timeout):
        self.append((uri, timeout))
        channel = self.next_channel()
        self.channels.append(channel)
        self.conns.append(Connection(channel))
        return self.conns[-1]


def out(n, **kw) -> Outgoing:
    return Outgoing(exchange="requests.events", routing_key="case.closed", body=b"{}", message_id=f"m{n}", **kw)


def test_an_empty_batch_opens_no_connection(connections):
    assert ConfirmingPublisher("amqp://x").publish_batch([]) == BatchResult(set(), set(), set())
    assert connections == []


def test_every_message_is_persistent_mandatory_and_confirmed(connections):
    publisher = ConfirmingPublisher("amqp://x", confirm_timeout=3.0)
    result = publisher.publish_batch([out(1, headers={"nameko.requestid": "r"}), out(2)])
    assert result == BatchResult({"m1", "m2"}, set(), set())
    assert connections == [("amqp://x", 3.0)]
    channel = connections.channels[0]
    assert channel.confirming
    message, exchange, routing_key, mandatory = channel.published[0]
    assert (exchange, routing_key, mandatory) == ("requests.events", "case.closed", True)
    assert message.body == b"{}"
    assert message.properties == {
        "content_type": "application/json",
        "content_encoding": "utf-8",
        "delivery_mode": 2,
        "message_id": "m1",
        "application_headers": {"nameko.requestid": "r"},
    }
    assert 0 < connections.conns[0].drains[0] <= 3.0


def test_nacked_and_returned_messages_are_reported_apart(connections):
    connections.next_channel = lambda: Channel(nack={"m2"}, returned={"m3"})
    result = ConfirmingPublisher("amqp://x").publish_batch([out(1), out(2), out(3)])
    assert result == BatchResult({"m1", "m3"}, {"m3"}, {"m2"})


def test_a_multiple_ack_settles_every_tag_up_to_it(connections):
    connections.next_channel = lambda: Channel(multiple=True)
    publisher = ConfirmingPublisher("amqp://x")
    assert publisher.publish_batch([out(1), out(2), out(3)]).confirmed == {"m1", "m2", "m3"}
    assert publisher._pending == {}


def test_settle_only_takes_the_tags_it_names():
    publisher = ConfirmingPublisher("amqp://x")
    publisher._pending = {1: "a", 2: "b", 3: "c"}
    publisher._on_ack(2, True)
    assert publisher._confirmed == {"a", "b"} and publisher._pending == {3: "c"}
    publisher._on_nack(3, False)
    publisher._on_nack(7, False)  # an unknown tag changes nothing
    assert publisher._nacked == {"c"} and publisher._pending == {}


def test_a_returned_message_without_an_id_is_ignored():
    publisher = ConfirmingPublisher("amqp://x")

    class Bare:
        properties: dict = {}

    publisher._on_return(Exception(), "x", "k", Bare())
    assert publisher._returned == set()


def test_tags_continue_on_one_channel_and_restart_on_a_new_one(connections):
    publisher = ConfirmingPublisher("amqp://x")
    publisher.publish_batch([out(1), out(2)])
    assert publisher._next_tag == 3
    publisher.publish_batch([out(3)])
    assert len(connections) == 1 and publisher._next_tag == 4
    connections.conns[0].connected = False
    publisher.publish_batch([out(4)])
    assert len(connections) == 2 and publisher._next_tag == 2
    assert connections.conns[0].released == 1


def test_an_unconfirmed_batch_raises_and_drops_the_connection(connections):
    connections.next_channel = lambda: Channel(silent=True)
    publisher = ConfirmingPublisher("amqp://x", confirm_timeout=0.05)
    with pytest.raises(PublishError, match=r"^PublishError: 2 messages unconfirmed after timeout$"):
        publisher.publish_batch([out(1), out(2)])
    assert connections.conns[0].released == 1
    assert publisher._conn is None and publisher._channel is None


def test_any_failure_becomes_a_publish_error_naming_it(monkeypatch):
    def refuse(uri, timeout):
        raise ConnectionRefusedError("nobody home")

    monkeypatch.setattr(broker, "connect", refuse)
    with pytest.raises(PublishError, match=r"^ConnectionRefusedError: nobody home$"):
        ConfirmingPublisher("amqp://x").publish_batch([out(1)])


def test_publish_raises_unless_the_one_message_reached_a_queue(connections):
    publisher = ConfirmingPublisher("amqp://x")
    publisher.publish(out(1))
    connections.channels[0].returned = {"m2"}
    with pytest.raises(PublishError, match=r"^unroutable: 'requests.events' 'case.closed'$"):
        publisher.publish(out(2))
    connections.channels[0].nack = {"m3"}
    with pytest.raises(PublishError, match=r"^not confirmed: m3$"):
        publisher.publish(out(3))


def test_close_survives_a_dead_socket(connections):
    publisher = ConfirmingPublisher("amqp://x")
    publisher.publish_batch([out(1)])
    connections.conns[0].fail_release = True
    publisher.close()
    assert publisher._conn is None and publisher._channel is None
    publisher.close()  # closing twice is harmless
    assert connections.conns[0].released == 1


def test_connect_bounds_every_socket_operation(monkeypatch):
    made = []

    class Kombu:
        def __init__(self, uri, **options) -> None:
            made.append((uri, options))

        def connect(self) -> None:
            made.append("connected")

    monkeypatch.setattr(broker, "Connection", Kombu)
    broker.connect("amqp://x", timeout=8.0)
    broker.connect("amqp://y", timeout=2.0)
    assert made == [
        (
            "amqp://x",
            {"connect_timeout": 5.0, "transport_options": {"read_timeout": 8.0, "write_timeout": 8.0}, "heartbeat": 0},
        ),
        "connected",
        (
            "amqp://y",
            {"connect_timeout": 2.0, "transport_options": {"read_timeout": 2.0, "write_timeout": 2.0}, "heartbeat": 0},
        ),
        "connected",
    ]


def test_nameko_connections_get_timeouts(monkeypatch):
    from nameko import constants

    monkeypatch.setattr(constants, "DEFAULT_TRANSPORT_OPTIONS", {"max_retries": 3})
    broker.bound_nameko_connections(7.0)
    assert constants.DEFAULT_TRANSPORT_OPTIONS == {
        "max_retries": 3,
        "connect_timeout": 5.0,
        "read_timeout": 7.0,
        "write_timeout": 7.0,
    }
    broker.bound_nameko_connections(3.0)
    assert constants.DEFAULT_TRANSPORT_OPTIONS["connect_timeout"] == 3.0


class ScriptedRelay:
    """Answers run_once from a script: a number sent, or an exception raised."""

    def __init__(self, script, batch_size=10, backlog=(4, 12.5)) -> None:
        self.script, self.batch_size, self._backlog = list(script), batch_size, backlog

    def run_once(self) -> int:
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step

    def backlog(self):
        if isinstance(self._backlog, BaseException):
            raise self._backlog
        return self._backlog


def looped(relay, **kw):
    loop = outbox.RelayLoop(relay, **kw)
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        if not relay.script or len(slept) > 20:  # a loop that never gets through its script ends too
            loop.stop()

    loop._sleep = sleep
    return loop, slept


def test_the_relay_loop_backs_off_on_broker_errors_and_resets_after_a_success():
    down = PublishError("down")
    relay = ScriptedRelay([down, down, down, down, down, 3, down, 10, 0])
    loop, slept = looped(relay, poll_seconds=0.5, max_backoff=5.0)
    loop.run()
    # A full batch (10) goes round again at once; a short one (3, 0) waits one poll.
    assert slept == [0.5, 1.0, 2.0, 4.0, 5.0, 0.5, 0.5, 0.5]


def test_an_unexpected_error_backs_off_the_same_way():
    relay = ScriptedRelay([RuntimeError("bug"), RuntimeError("bug"), 1])
    loop, slept = looped(relay, poll_seconds=0.25, max_backoff=0.6)
    loop.run()
    assert slept == [0.25, 0.5, 0.25]


def test_the_loop_reports_the_backlog_of_its_service():
    relay = ScriptedRelay([0], backlog=(4, None))
    loop, _ = looped(relay, service="loop-gauges")
    metrics.OUTBOX_OLDEST_SECONDS.labels("loop-gauges").set(99.0)
    loop.run()
    assert metrics.OUTBOX_BACKLOG.labels("loop-gauges")._value.get() == 4
    assert metrics.OUTBOX_OLDEST_SECONDS.labels("loop-gauges")._value.get() == 0.0
    relay = ScriptedRelay([0], backlog=(2, 7.5))
    loop, _ = looped(relay, service="loop-gauges")
    loop.run()
    assert metrics.OUTBOX_OLDEST_SECONDS.labels("loop-gauges")._value.get() == 7.5
    assert loop._gauges.due() is False  # measured at most every 5 s


def test_without_a_service_or_a_database_the_gauges_are_left_alone():
    metrics.OUTBOX_BACKLOG.labels("loop-quiet").set(1)
    loop, _ = looped(ScriptedRelay([0], backlog=RuntimeError("database down")), service="loop-quiet")
    loop.run()
    assert metrics.OUTBOX_BACKLOG.labels("loop-quiet")._value.get() == 1
    loop, _ = looped(ScriptedRelay([0], backlog=(9, 1.0)))
    loop.run()
    assert loop._gauges.due() is True  # never consulted without a service


def test_nudge_wakes_the_sleep_and_stop_ends_the_loop():
    loop = outbox.RelayLoop(ScriptedRelay([]), poll_seconds=30.0)
    assert (loop.poll_seconds, loop.max_backoff, loop.running) == (30.0, 5.0, True)
    loop.nudge()
    loop._sleep(30.0)  # returns at once: the nudge was waiting
    assert not loop.wake.is_set()
    loop.stop()
    assert loop.running is False and loop.wake.is_set()
    loop.run()  # a stopped loop does nothing


@pytest.fixture
def store(tmp_path):
    store = requests_store(tmp_path)
    yield store
    store.engine.dispose()

CHINESE = {"名": "张"}  # published as UTF-8 JSON


def rows(store):
    with store.read() as session:
        return {row.event_id: row for row in session.scalars(select(Outbox))}


class Unconfirmed(FakePublisher):
    """The broker neither acked nor nacked the first message (the connection went before it said)."""

    def publish_batch(self, batch):
        result = super().publish_batch(batch)
        return BatchResult(result.confirmed - {batch[0].message_id}, result.returned, result.nacked)


def test_the_relay_records_each_rows_fate(store):
    events = stage(store, 5, CHINESE)
    ids = [e["id"] for e in events]
    woken = []
    store.on_commit(lambda: woken.append(1))
    relay = outbox.Relay(store, Outbox, FakePublisher(nacked=[ids[0]], returned=[ids[2], ids[3]]))
    assert relay.batch_size == 200
    assert relay.run_once() == 4
    assert woken == []  # the relay's own bookkeeping does not wake the relay
    found = rows(store)
    assert [(found[i].attempts, found[i].last_error, found[i].sent_at is None) for i in ids] == [
        (1, "nacked by broker", True),
        (1, None, False),
        (1, "unroutable: no subscriber", False),
        (1, "unroutable: no subscriber", False),
        (1, None, False),
    ]
    assert relay.unroutable == 2
    assert relay.run_once() == 0  # nacked again: one more attempt counted
    assert (rows(store)[ids[0]].attempts, rows(store)[ids[0]].sent_at) == (2, None)
    relay.publisher.nacked = set()
    assert relay.run_once() == 1
    assert (rows(store)[ids[0]].attempts, rows(store)[ids[0]].sent_at is None) == (3, False)


def test_a_message_the_broker_never_confirmed_stays_pending(store):
    events = stage(store, 2, CHINESE)
    relay = outbox.Relay(store, Outbox, Unconfirmed())
    assert relay.run_once() == 1
    found = rows(store)
    assert (found[events[0]["id"]].sent_at, found[events[0]["id"]].last_error) == (None, "nacked by broker")
    assert found[events[1]["id"]].sent_at is not None


def test_the_relay_sends_the_event_itself_as_utf8_json(store):
    [event] = stage(store, 1, CHINESE)
    publisher = FakePublisher()
    outbox.Relay(store, Outbox, publisher).run_once()
    [out] = publisher.published
    assert json.loads(out.body) == event
    assert "张".encode() in out.body


def test_the_backlog_counts_pending_rows_and_the_age_of_the_oldest(store):
    relay = outbox.Relay(store, Outbox, FakePublisher())
    assert relay.backlog() == (0, None)
    stage(store, 2, CHINESE)
    count, age = relay.backlog()
    assert count == 2 and 0 <= age < 60


def test_the_relay_loop_says_why_it_waits(caplog):
    caplog.set_level(logging.DEBUG, logger="services.common.outbox")
    relay = ScriptedRelay([PublishError("down"), RuntimeError("bug"), 0], backlog=RuntimeError("database down"))
    loop, _ = looped(relay, service="loop-logs")
    loop.run()
    assert [(r.levelname, r.getMessage(), bool(r.exc_info)) for r in caplog.records] == [
        ("DEBUG", "outbox relay: backlog unavailable (database down)", False),
        ("WARNING", "outbox relay: broker unavailable (down); retrying in 0.5s", False),
        ("ERROR", "outbox relay: unexpected error; retrying in 1.0s", True),
    ]


def test_the_loop_defaults_and_its_sleep_waits_for_the_poll_or_a_nudge():
    loop = outbox.RelayLoop(ScriptedRelay([]))
    assert (loop.poll_seconds, loop.max_backoff, loop.service, loop._gauges.seconds) == (0.5, 5.0, None, 5.0)

    class Wake:
        def __init__(self) -> None:
            self.calls = []

        def wait(self, seconds) -> None:
            self.calls.append(("wait", seconds))

        def clear(self) -> None:
            self.calls.append(("clear",))

    loop.wake = Wake()
    loop._sleep(0.25)
    assert loop.wake.calls == [("wait", 0.25), ("clear",)]


def test_publisher_and_connection_defaults(monkeypatch):
    assert ConfirmingPublisher("amqp://x").confirm_timeout == 10.0
    made = []

    class Kombu:
        def __init__(self, uri, **options) -> None:
            made.append(options["transport_options"]["read_timeout"])

        def connect(self) -> None:
            pass

    monkeypatch.setattr(broker, "Connection", Kombu)
    broker.connect("amqp://x")
    assert made == [10.0]
    from nameko import constants

    monkeypatch.setattr(constants, "DEFAULT_TRANSPORT_OPTIONS", {})
    broker.bound_nameko_connections()
    assert constants.DEFAULT_TRANSPORT_OPTIONS["read_timeout"] == 10.0


def test_a_single_ack_settles_only_its_tag_and_a_multiple_nack_all_before_it():
    publisher = ConfirmingPublisher("amqp://x")
    publisher._pending = {1: "a", 2: "b", 3: "c", 4: "d"}
    publisher._on_ack(2, False)
    assert publisher._confirmed == {"b"}
    publisher._on_nack(3, True)
    assert publisher._nacked == {"a", "c"} and publisher._pending == {4: "d"}


def test_a_short_confirm_timeout_still_waits_for_the_acks(connections):
    publisher = ConfirmingPublisher("amqp://x", confirm_timeout=0.5)
    assert publisher.publish_batch([out(1)]).confirmed == {"m1"}


def test_nacks_and_a_failed_close_are_logged(connections, caplog):
    caplog.set_level(logging.DEBUG, logger="services.common.broker")
    connections.next_channel = lambda: Channel(nack={"m1"})
    publisher = ConfirmingPublisher("amqp://x")
    publisher.publish_batch([out(1), out(2)])
    connections.conns[0].fail_release = True
    publisher.close()
    assert [(r.levelname, r.getMessage(), bool(r.exc_info)) for r in caplog.records] == [
        ("WARNING", "broker nacked 1 messages", False),
        ("DEBUG", "closing broker connection failed", True),
    ]
