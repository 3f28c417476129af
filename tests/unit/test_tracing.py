"""Trace context parsing and the log context that puts trace and case ids on every line."""

import json
import logging

import pytest

from services.common import tracing
from services.common.logs import JsonFormatter

pytestmark = pytest.mark.unit

TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_well_formed_traceparent_is_kept_and_others_refused():
    assert tracing.valid_traceparent(TP) == TP
    assert tracing.valid_traceparent("00-" + "0" * 32 + "-00f067aa0ba902b7-01") is None
    assert tracing.valid_traceparent("01-abc") is None
    assert tracing.valid_traceparent(None) is None
    fresh = tracing.new_traceparent()
    assert tracing.valid_traceparent(fresh) == fresh


def test_an_event_handlers_context_names_the_event_and_case():
    event = {"specversion": "1.0", "id": "e1", "type": "case.closed", "tenant": "t1", "data": {"case_id": "c1"}}
    assert tracing.context_of({"traceparent": TP, "requestid": "r1"}, (event,)) == {
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "request_id": "r1",
        "tenant": "t1",
        "event_id": "e1",
        "event_type": "case.closed",
        "case_id": "c1",
    }
    assert tracing.context_of({}, ("not an event",)) == {"trace_id": None, "request_id": None}


def test_json_log_lines_carry_the_worker_context():
    class Ctx:
        data = {"traceparent": TP}
        args = ({"specversion": "1.0", "id": "e1", "type": "case.closed", "tenant": "t1", "data": {"case_id": "c1"}},)

    provider = tracing.LogContext()
    provider.worker_setup(Ctx)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "visit %s scheduled", ("v1",), None)
    tracing.ContextFilter().filter(record)
    provider.worker_teardown(Ctx)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "visit v1 scheduled"
    assert (line["trace_id"], line["case_id"], line["event_id"], line["tenant"]) == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "c1",
        "e1",
        "t1",
    )
    after = logging.LogRecord("x", logging.INFO, __file__, 1, "idle", (), None)
    tracing.ContextFilter().filter(after)
    assert after.trace_id is None
