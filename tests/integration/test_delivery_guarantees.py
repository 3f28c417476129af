"""Nothing lost, nothing done twice: duplicates, a broker outage, a failing handler and the DLQ."""

import importlib
import json
import time

import pytest
from sqlalchemy import func, select

from services import cli
from services.common import metrics, topology
from services.common.broker import ConfirmingPublisher, connect
from services.common.config import SERVICES, retry_delays
from services.common.outbox import to_outgoing
from services.notifications.models import Delivery
from services.requests.models import Outbox as RequestsOutbox
from services.surveys.models import Outbox as SurveysOutbox
from services.surveys.models import Survey
from services.volunteers import visits as visit_operations
from services.volunteers.models import DeadLetter, Visit
from services.volunteers.models import Outbox as VolunteersOutbox
from tests.support.infra import wait_for

pytestmark = pytest.mark.integration


def counts(platform, case_id):
    """(visits, surveys, survey-link messages on the log channel) for one case."""
    with platform.store("volunteers").read() as session:
        visits = session.scalar(select(func.count()).select_from(Visit).where(Visit.case_id == case_id))
    with platform.store("surveys").read() as session:
        survey_ids = session.scalars(select(Survey.id).where(Survey.case_id == case_id)).all()
        issued = session.scalars(
            select(SurveysOutbox.event_id).where(
                SurveysOutbox.subject.in_(survey_ids), SurveysOutbox.type == "survey.issued"
            )
        ).all()
    with platform.store("notifications").read() as session:
        sent = session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.trigger_id.in_(issued), Delivery.channel == "log")
        )
    return visits, len(survey_ids), sent


def closed_event(platform, case_id):
    with platform.store("requests").read() as session:
        return session.scalars(
            select(RequestsOutbox.body).where(RequestsOutbox.subject == case_id, RequestsOutbox.type == "case.closed")
        ).one()


def drain(platform, queue_names, timeout=15):
    """Wait until the named queues have nothing ready, then a moment for in-flight handlers."""

    def empty():
        conn = connect(platform.amqp_uri)
        try:
            channel = conn.channel()
            return all(channel.queue_declare(name, passive=True).message_count == 0 for name in queue_names)
        finally:
            conn.release()

    wait_for(empty, timeout)
    time.sleep(1.0)


def case_closed_queues():
    return [s.queue_name for s in topology.all_subscriptions() if s.event_type == "case.closed"]


def handled(outcome: str) -> dict[str, float]:
    """How many ``case.closed`` events each service's handlers counted with ``outcome`` (this process)."""
    found = {}
    for metric in metrics.EVENTS_HANDLED.collect():
        for sample in metric.samples:
            labels = sample.labels
            if (
                sample.name.endswith("_total")
                and labels["event_type"] == "case.closed"
                and labels["outcome"] == outcome
            ):
                found[labels["service"]] = sample.value
    return found


def dead_letters_of(platform, event_id):
    """Every dead letter, in every service's store, of the event ``event_id``."""
    found = []
    for service in SERVICES:
        model = importlib.import_module(f"services.{service}.models").DeadLetter
        with platform.store(service).read() as session:
            found += session.scalars(select(model.id).where(model.event_id == event_id)).all()
    return found


def retry_queues_ready(platform):
    """Messages waiting in the retry (delay) queues of the broker topology."""
    conn = connect(platform.amqp_uri)
    try:
        channel = conn.channel()
        delays = retry_delays(platform.env()["RETRY_DELAYS"])
        return sum(channel.queue_declare(topology.delay_name(d), passive=True).message_count for d in delays)
    finally:
        conn.release()


def effects(platform, case_id):
    """What the case's closure produced, row by row: visits, surveys, and every delivery of an
    event about the case, its visit or its survey."""
    triggers = []
    with platform.store("requests").read() as session:
        triggers += session.scalars(select(RequestsOutbox.event_id).where(RequestsOutbox.subject == case_id)).all()
    with platform.store("volunteers").read() as session:
        visits = session.execute(
            select(Visit.id, Visit.status, Visit.volunteer_id).where(Visit.case_id == case_id).order_by(Visit.id)
        ).all()
        triggers += session.scalars(
            select(VolunteersOutbox.event_id).where(VolunteersOutbox.subject.in_([v.id for v in visits]))
        ).all()
    with platform.store("surveys").read() as session:
        surveys = session.execute(
            select(Survey.id, Survey.status).where(Survey.case_id == case_id).order_by(Survey.id)
        ).all()
        triggers += session.scalars(
            select(SurveysOutbox.event_id).where(SurveysOutbox.subject.in_([s.id for s in surveys]))
        ).all()
    with platform.store("notifications").read() as session:
        deliveries = session.execute(
            select(Delivery.id, Delivery.channel, Delivery.status, Delivery.trigger_id)
            .where(Delivery.trigger_id.in_(triggers))
            .order_by(Delivery.id)
        ).all()
    return visits, surveys, deliveries


def test_the_same_case_closed_event_delivered_twice_more_changes_nothing(platform, company):
    """The inbox is what stops a duplicate: it counts it, and nothing is retried or dead-lettered.

    (Unique keys on visits and surveys would also refuse a second row; without the inbox the
    duplicate would then fail into retries and the dead-letter store, which is why those are
    looked at here, not only the row counts.)
    """
    case = company.case(company.estate_id, phone="13912349999")
    company.close(case["id"])
    wait_for(lambda: counts(platform, case["id"]) == (1, 1, 1))
    event = closed_event(platform, case["id"])
    event_id = event["id"]
    wait_for(lambda: retry_queues_ready(platform) == 0)
    before, duplicates_before = effects(platform, case["id"]), handled("duplicate")

    publisher = ConfirmingPublisher(platform.amqp_uri)
    for _ in range(2):
        publisher.publish(to_outgoing(event))
    publisher.close()
    consumers = {s.service for s in topology.all_subscriptions() if s.event_type == "case.closed"}
    expected = {service: duplicates_before.get(service, 0) + 2 for service in consumers}
    # The inbox counted both copies in every consuming service ...
    wait_for(lambda: {s: handled("duplicate").get(s, 0) for s in consumers} == expected, timeout=15)
    drain(platform, case_closed_queues())
    # ... nothing went into retries or a dead-letter store, and nothing changed.
    assert retry_queues_ready(platform) == 0
    assert dead_letters_of(platform, event_id) == []
    assert effects(platform, case["id"]) == before
    assert counts(platform, case["id"]) == (1, 1, 1)


def test_events_of_a_case_closed_while_the_broker_is_unreachable_are_published_when_it_returns(
    platform, company, outbox_link
):
    case = company.case(company.estate_id, phone="13912349999")
    outbox_link.cut()
    try:
        company.close(case["id"])
        time.sleep(3.0)
        with platform.store("requests").read() as session:
            pending = session.scalars(
                select(RequestsOutbox.type).where(
                    RequestsOutbox.subject == case["id"], RequestsOutbox.sent_at.is_(None)
                )
            ).all()
        assert "case.closed" in pending  # kept in the outbox, not lost
        assert counts(platform, case["id"]) == (0, 0, 0)
    finally:
        outbox_link.restore()
    wait_for(lambda: counts(platform, case["id"]) == (1, 1, 1), timeout=30)


def test_a_failing_handler_is_retried_with_backoff_then_dead_lettered_and_replayed(
    platform, company, monkeypatch, capsys
):
    attempts = []
    real = visit_operations.schedule_follow_up

    def broken(session, emit, event, due_days=3):
        if event["subject"] == case_id:
            attempts.append(time.monotonic())
            raise RuntimeError("volunteer roster unavailable")
        return real(session, emit, event, due_days)

    monkeypatch.setattr(visit_operations, "schedule_follow_up", broken)
    case = company.case(company.estate_id, phone="13912349999")
    case_id = case["id"]
    company.close(case_id)

    def dead_letter():
        with platform.store("volunteers").read() as session:
            return session.scalars(select(DeadLetter).where(DeadLetter.body.contains(case_id))).first()

    letter = wait_for(dead_letter, timeout=20)
    assert len(attempts) == 4  # DLQ_MAX_ATTEMPTS
    gaps = [b - a for a, b in zip(attempts, attempts[1:], strict=False)]
    # Each wait is at least its configured delay: the backoff grows and nothing hot-loops. (Upper
    # bounds and "each gap longer than the last" depend on the machine's load, so are not asserted.)
    assert [round(g, 1) >= d for g, d in zip(gaps, (0.3, 0.6, 1.2), strict=True)] == [True, True, True]
    assert letter.queue == "evt-requests-case.closed--volunteers.on_case_closed"
    assert letter.attempts == 4
    assert "volunteer roster unavailable" in letter.error
    time.sleep(1.0)
    assert len(attempts) == 4  # and nothing more after dead-lettering
    assert counts(platform, case_id)[0] == 0

    with platform.with_env():
        assert cli.main(["dlq", "list", "--service", "volunteers"]) == 0
        listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert letter.id in [row["id"] for row in listed]

        monkeypatch.setattr(visit_operations, "schedule_follow_up", real)  # the fault is gone
        assert cli.main(["dlq", "replay", letter.id]) == 0
        assert capsys.readouterr().out.strip() == "replayed 1 dead letter"
        wait_for(lambda: counts(platform, case_id)[0] == 1)
        assert cli.main(["dlq", "replay", letter.id]) == 1  # already replayed: nothing to do
        assert capsys.readouterr().out.strip() == "replayed 0 dead letters"
    time.sleep(0.5)
    assert counts(platform, case_id)[0] == 1
