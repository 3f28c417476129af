"""The outbox relay and the inbox, on SQLite, with a fake broker (no services needed)."""

import pytest
from sqlalchemy import select

from services.common import outbox
from services.common.broker import PublishError
from services.common.database import Access
from services.common.envelope import make_event
from services.requests.models import DeadLetter, Inbox, Outbox
from tests.support.reliability import FakePublisher, requests_store, stage

pytestmark = pytest.mark.unit


@pytest.fixture
def store(tmp_path):
    store = requests_store(tmp_path)
    yield store
    store.engine.dispose()


def pending(store):
    with store.read() as session:
        return session.scalars(select(Outbox.event_id).where(Outbox.sent_at.is_(None)).order_by(Outbox.id)).all()


def test_the_relay_publishes_in_order_in_batches_and_marks_sent(store):
    events = stage(store, 5)
    publisher = FakePublisher()
    relay = outbox.Relay(store, Outbox, publisher, batch_size=2)
    assert [relay.run_once() for _ in range(4)] == [2, 2, 1, 0]
    sent = [out.message_id for batch in publisher.batches for out in batch]
    assert sent == [e["id"] for e in events]
    first = publisher.batches[0][0]
    assert (first.exchange, first.routing_key) == ("requests.events", "case.closed")
    assert pending(store) == []


def test_a_broker_failure_keeps_every_row_for_the_next_try(store):
    events = stage(store, 3)
    relay = outbox.Relay(store, Outbox, FakePublisher(fail=True))
    with pytest.raises(PublishError):
        relay.run_once()
    assert pending(store) == [e["id"] for e in events]
    assert relay.backlog()[0] == 3


def test_a_nacked_message_stays_pending_and_a_returned_one_is_marked(store):
    events = stage(store, 3)
    relay = outbox.Relay(store, Outbox, FakePublisher(returned=[events[1]["id"]], nacked=[events[2]["id"]]))
    assert relay.run_once() == 2
    assert pending(store) == [events[2]["id"]]
    assert relay.unroutable == 1


def test_trace_context_travels_in_nameko_headers():
    event = make_event(
        source_service="surveys",
        type="survey.issued",
        subject="s",
        tenant="t",
        data={},
        traceparent="00-abc-def-01",
        request_id="r-1",
    )
    out = outbox.to_outgoing(event)
    assert out.exchange == "surveys.events"
    assert out.headers == {"nameko.traceparent": "00-abc-def-01", "nameko.requestid": "r-1"}


class Provider:
    def __init__(self, store):
        self.store = store
        self.models = (Outbox, Inbox, DeadLetter)


def test_the_inbox_applies_an_event_once(store):
    access = Access(Provider(store), {})
    event = make_event(source_service="surveys", type="survey.answered", subject="s", tenant="t", data={})
    applied = []
    for _ in range(3):
        with access.inbox(event, "on_survey_answered") as session:
            if session is not None:
                applied.append(event["id"])
    assert applied == [event["id"]]
    with access.inbox(event, "another_handler") as session:
        assert session is not None  # each handler has its own record


def test_a_failing_handler_leaves_no_inbox_record(store):
    access = Access(Provider(store), {})
    event = make_event(source_service="surveys", type="survey.answered", subject="s", tenant="t", data={})
    with pytest.raises(RuntimeError), access.inbox(event, "h") as session:
        raise RuntimeError("boom")
    with access.inbox(event, "h") as session:
        assert session is not None
