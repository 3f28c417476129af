"""Small contracts: ids, the envelope, phones, templates, redaction, config, topology."""

import uuid

import pytest
from jinja2 import UndefinedError
from marshmallow import ValidationError

from services.common.config import retry_delays, service_config
from services.common.envelope import load_event, make_event
from services.common.fields import mainland_mobile
from services.common.ids import new_id, new_token
from services.common.topology import all_subscriptions, delay_name
from services.notifications.deliveries import redact
from services.notifications.templates import render

pytestmark = pytest.mark.unit


def test_ids_are_uuid7_and_sort_by_creation():
    ids = [new_id() for _ in range(5000)]
    assert all(uuid.UUID(i).version == 7 for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == 5000


def test_tokens_carry_192_bits():
    assert len(new_token()) == 32
    assert new_token() != new_token()


def test_event_envelope_round_trips_with_cloudevents_names():
    event = make_event(
        source_service="requests",
        type="case.closed",
        subject="c1",
        tenant="t1",
        data={"case_id": "c1"},
        request_id="r1",
    )
    assert set(event) == {"specversion", "id", "source", "type", "time", "subject", "tenant", "data", "requestid"}
    assert event["source"] == "lianxin/requests"
    assert event["time"].endswith("Z")
    loaded = load_event(event | {"future_attribute": 1})
    assert loaded["data"] == {"case_id": "c1"}
    assert "future_attribute" not in loaded


def test_a_malformed_envelope_is_rejected():
    with pytest.raises(ValidationError) as info:
        load_event({"specversion": "0.3", "id": "x"})
    assert sorted(info.value.messages) == ["data", "source", "specversion", "subject", "tenant", "time", "type"]


@pytest.mark.parametrize(
    ("raw", "e164"),
    [("13912345678", "+8613912345678"), ("+86 139 1234 5678", "+8613912345678"), ("8613912345678", "+8613912345678")],
)
def test_mainland_mobiles_are_stored_as_e164(raw, e164):
    assert mainland_mobile(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "010-12345678", "+14155550100", "1391234567"])
def test_other_numbers_are_refused(raw):
    with pytest.raises(ValidationError):
        mainland_mobile(raw)


def test_a_missing_template_variable_is_an_error_not_a_blank():
    with pytest.raises(UndefinedError):
        render("survey.issued", name="陈先生", title="楼道灯", days=7)
    subject, body = render("survey.issued", name="陈先生", title="楼道灯", days=7, link="http://x/s/abc")
    assert subject == "请评价本次服务"
    assert body == "陈先生您好，您反映的“楼道灯”已办结。请点击链接评价本次服务：http://x/s/abc（7天内有效）"


def test_survey_links_are_redacted_in_records():
    assert redact("评价：http://h:8000/s/Ab_c-123（7天）") == "评价：http://h:8000/s/***（7天）"


def test_retry_delays_parse_and_refuse_nonsense():
    assert retry_delays("1, 5,30") == (1.0, 5.0, 30.0)
    with pytest.raises(ValueError):
        retry_delays("0,5")
    assert delay_name(0.3) == "lianxin.retry.300ms"


def test_service_config_reads_the_environment():
    env = {"AMQP_URI": "amqp://u:p@h:5672/v", "REQUESTS_DATABASE_URL": "postgresql://h/db", "GATEWAY_PORT": "9000"}
    config = service_config("requests", env=env)
    assert config["AMQP_URI"] == "amqp://u:p@h:5672/v"
    assert config["DATABASE_URL"] == "postgresql://h/db"
    assert config["PUBLIC_BASE_URL"] == "http://127.0.0.1:9000"
    assert config["RETRY_DELAYS"] == "1,5,30,120,600"


def test_topology_matches_the_event_contract():
    assert [s.queue_name for s in all_subscriptions()] == [
        "evt-surveys-survey.answer_voided--requests.on_survey_answer_voided",
        "evt-surveys-survey.answered--requests.on_survey_answered",
        "evt-surveys-survey.low_score--requests.on_survey_low_score",
        "evt-volunteers-visit.completed--requests.on_visit_completed",
        "evt-requests-case.closed--volunteers.on_case_closed",
        "evt-requests-case.reopened--volunteers.on_case_reopened",
        "evt-requests-case.closed--notifications.on_case_closed",
        "evt-requests-case.escalated--notifications.on_case_escalated",
        "evt-requests-case.status_changed--notifications.on_case_status_changed",
        "evt-requests-case.submitted--notifications.on_case_submitted",
        "evt-requests-incident.declared--notifications.on_incident_declared",
        "evt-requests-incident.resolved--notifications.on_incident_resolved",
        "evt-requests-incident.updated--notifications.on_incident_updated",
        "evt-surveys-survey.answer_voided--notifications.on_survey_answer_voided",
        "evt-surveys-survey.answered--notifications.on_survey_answered",
        "evt-surveys-survey.issued--notifications.on_survey_issued",
        "evt-surveys-survey.reminder_due--notifications.on_survey_reminder_due",
        "evt-volunteers-activity.cancelled--notifications.on_activity_cancelled",
        "evt-volunteers-activity.published--notifications.on_activity_published",
        "evt-volunteers-activity.signup_promoted--notifications.on_activity_signup_promoted",
        "evt-volunteers-visit.overdue--notifications.on_visit_overdue",
        "evt-volunteers-visit.scheduled--notifications.on_visit_scheduled",
        "evt-requests-case.closed--surveys.on_case_closed",
        "evt-requests-case.reopened--surveys.on_case_reopened",
    ]


def test_an_event_carries_the_request_context_only_when_there_is_one():
    event = make_event(
        source_service="requests", type="t", subject="s", tenant="x", data={}, traceparent="00-a-b-01", request_id="r"
    )
    assert (event["traceparent"], event["requestid"]) == ("00-a-b-01", "r")
    bare = make_event(source_service="requests", type="t", subject="s", tenant="x", data={})
    assert "traceparent" not in bare and "requestid" not in bare
