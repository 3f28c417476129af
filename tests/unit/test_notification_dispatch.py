"""The dispatcher over a real (SQLite) database with fake channels: rate limits, retries, resumable broadcasts."""

import pytest
from sqlalchemy import func, select

from services.common.db import Store, make_engine, utcnow
from services.common.ids import new_id
from services.notifications import broadcasts, contacts, deliveries
from services.notifications.channels.backoff import TokenBucket
from services.notifications.channels.base import Failed, RetryLater, Sent
from services.notifications.deliveries import Person, Sender
from services.notifications.dispatcher import Dispatch
from services.notifications.models import Base, BroadcastRecipient, Delivery, InboxMessage
from services.notifications.quiet_hours import QuietHours
from services.notifications.settings import ChannelSet, RetryPolicy

pytestmark = pytest.mark.unit

AWAKE = Sender(quiet=QuietHours("00:00", "00:00"))


class FakeSms:
    name = "aliyun_sms"

    def __init__(self, *results):
        self.results = list(results)
        self.sent = []

    def send(self, message):
        self.sent.append(message)
        return self.results.pop(0) if self.results else Sent("ok")


@pytest.fixture
def store(tmp_path):
    store = Store(make_engine(f"sqlite:///{tmp_path}/n.sqlite3"))
    Base.metadata.create_all(store.engine)
    yield store
    store.engine.dispose()


def queue_sms(store, phone, trigger=None):
    with store.transaction() as session:
        deliveries.queue(
            session,
            tenant="t1",
            trigger_id=trigger or new_id(),
            kind="case.submitted",
            template="case.submitted",
            person=Person(phone, "陈"),
            channels=["inapp", "aliyun_sms"],
            variables={"title": "灯坏了"},
            sender=AWAKE,
        )


def sms_rows(store):
    with store.read() as session:
        return session.scalars(select(Delivery).where(Delivery.channel == "aliyun_sms").order_by(Delivery.id)).all()


def test_a_rate_limited_channel_postpones_without_spending_an_attempt(store):
    clock = [0.0]
    sms = FakeSms()
    channels = ChannelSet({"aliyun_sms": sms}, {}, {"aliyun_sms": TokenBucket(1, 1, clock=lambda: clock[0])})
    dispatch = Dispatch(store, ["inapp", "aliyun_sms"], channels)
    queue_sms(store, "+8613800000001")
    queue_sms(store, "+8613800000002")

    assert dispatch.send_deliveries() == 1
    first, second = sms_rows(store)
    assert (first.status, first.attempts) == ("sent", 1)
    assert (second.status, second.attempts) == ("queued", 0)
    assert second.next_attempt_at > utcnow()
    assert [m.recipient.phone for m in sms.sent] == ["+8613800000001"]


def test_provider_limits_retry_later_and_permanent_errors_fail_once(store):
    sms = FakeSms(RetryLater("isv.BUSINESS_LIMIT_CONTROL"), Failed("isv.MOBILE_NUMBER_ILLEGAL"))
    dispatch = Dispatch(store, ["inapp", "aliyun_sms"], ChannelSet({"aliyun_sms": sms}), RetryPolicy(8, 30, 480))
    queue_sms(store, "+8613800000001")
    queue_sms(store, "+8613800000002")
    assert dispatch.send_deliveries() == 2
    limited, illegal = sms_rows(store)
    assert (limited.status, limited.attempts, limited.last_error) == ("queued", 1, "isv.BUSINESS_LIMIT_CONTROL")
    assert (illegal.status, illegal.attempts, illegal.outbound) == ("failed", 1, None)
    assert dispatch.send_deliveries() == 0  # the retry waits for its backoff


def test_a_broadcast_killed_mid_batch_resumes_with_no_household_twice_and_none_skipped(store, monkeypatch):
    with store.transaction() as session:
        contacts.save_many(
            session,
            "t1",
            [{"phone": f"+86138000000{n:02d}", "estate_id": "e1", "household": f"1-1-{n}"} for n in range(10)],
        )
        broadcast, _ = broadcasts.create(
            session,
            tenant="t1",
            kind="notice",
            template="notice",
            variables={"title": "停水", "body": "明天停水。"},
            critical=False,
            topic={"estate_ids": ["e1"]},
            idempotency_key="k1",
            now=utcnow(),
        )
    dispatch = Dispatch(store, ["inapp", "log"], ChannelSet({}), batch=4)
    real_plan = deliveries.plan_rows
    calls = []

    def dying_plan(**kwargs):
        calls.append(kwargs["person"].phone)
        if len(calls) == 7:  # the process dies in the middle of the second batch
            raise SystemExit("killed")
        return real_plan(**kwargs)

    monkeypatch.setattr(deliveries, "plan_rows", dying_plan)
    assert dispatch.advance_broadcasts() == 4
    with pytest.raises(SystemExit):
        dispatch.advance_broadcasts()
    with store.read() as session:
        assert broadcasts.progress(session, broadcast) == {"total": 10, "pending": 6, "sent": 4, "failed": 0}
    monkeypatch.setattr(deliveries, "plan_rows", real_plan)

    while dispatch.advance_broadcasts():
        pass
    with store.read() as session:
        phones = session.scalars(select(InboxMessage.recipient_phone)).all()
        assert sorted(phones) == [f"+86138000000{n:02d}" for n in range(10)]
        assert broadcasts.get(session, "t1", broadcast.id).status == "done"
        assert session.scalar(select(func.count()).select_from(BroadcastRecipient)) == 10


def test_the_survey_link_travels_whole_but_is_kept_redacted(store):
    class FakeEmail:
        name = "email"
        sent = []

        def send(self, message):
            self.sent.append(message)
            return Sent("mail-1")

    email = FakeEmail()
    with store.transaction() as session:
        deliveries.queue(
            session,
            tenant="t1",
            trigger_id=new_id(),
            kind="survey.issued",
            template="survey.issued",
            person=Person("+8613800000001", "陈", email="chen@example.com"),
            channels=["inapp", "email"],
            variables={"title": "灯坏了", "link": "http://h/s/TOKEN_abc", "days": 7},
            sender=AWAKE,
        )
    assert Dispatch(store, ["inapp", "email"], ChannelSet({"email": email})).send_deliveries() == 1
    (message,) = email.sent
    assert "http://h/s/TOKEN_abc" in message.body and "http://h/s/TOKEN_abc" in message.html
    with store.read() as session:
        row = session.scalars(select(Delivery).where(Delivery.channel == "email")).one()
        inbox = session.scalars(select(InboxMessage.body)).one()
    assert (row.status, row.outbound, row.outbound_params, row.html) == ("sent", None, None, None)
    assert "http://h/s/***" in row.body and "TOKEN_abc" not in row.body
    assert "http://h/s/TOKEN_abc" in inbox


def test_each_household_is_told_once_through_its_earliest_registered_resident(store):
    people = [
        ("+8613800000001", "1-1-101", "resident"),
        ("+8613800000002", "1-1-101", "resident"),  # the same flat, registered later
        ("+8613800000003", "1-1-102", "staff"),  # staff are not a household
        ("+8613800000004", "2-1-101", "resident"),
        ("+8613800000005", None, "resident"),  # no household given
    ]
    with store.transaction() as session:
        for phone, household, role in people:  # one by one, so the ids follow this order
            contacts.save_many(
                session, "t1", [{"phone": phone, "estate_id": "e1", "household": household, "role": role}]
            )
        contacts.save_many(session, "t2", [{"phone": "+8613800000009", "estate_id": "e1", "household": "1-1-103"}])
        contacts.save_many(
            session, "t1", [{"phone": "+8613800000001", "name": "再导入", "estate_id": "e1", "household": "1-1-101"}]
        )

        def planned(topic, key):
            broadcast, _ = broadcasts.create(
                session,
                tenant="t1",
                kind="notice",
                template="notice",
                variables={},
                critical=False,
                topic=topic,
                idempotency_key=key,
                now=utcnow(),
            )
            rows = session.scalars(
                select(BroadcastRecipient)
                .where(BroadcastRecipient.broadcast_id == broadcast.id)
                .order_by(BroadcastRecipient.seq)
            )
            return broadcast.total, [(r.phone, r.household, r.seq) for r in rows]

        assert planned({"estate_ids": ["e1"]}, "a") == (
            2,
            [("+8613800000001", "1-1-101", 0), ("+8613800000004", "2-1-101", 1)],
        )
        assert planned({"estate_ids": ["e1"], "building": "2"}, "b") == (1, [("+8613800000004", "2-1-101", 0)])
        assert planned({"estate_ids": ["e1"]}, "a")[0] == 2  # the same key: the same broadcast
