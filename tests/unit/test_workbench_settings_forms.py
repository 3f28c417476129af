"""The settings forms → the API's payloads, and the services' nested field errors → one message
per form field (the SLA's errors sit under marshmallow's ``sla.<priority>.value``)."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from services.gateway.workbench import number
from services.gateway.workbench_settings import (
    category_payload,
    quiet_errors,
    said,
    sla_errors,
    survey_payload,
    webhook_payload,
)

pytestmark = pytest.mark.unit


def test_numbers_typed_in_a_form_go_as_numbers_and_anything_else_as_typed_for_the_service_to_refuse():
    assert [number("2"), number(" 1.5 "), number(""), number("两小时")] == [2, 1.5, None, "两小时"]
    assert survey_payload({"link_delay_minutes": "30", "expiry_days": "十天"}) == {
        "link_delay_minutes": 30, "expiry_days": "十天", "reminder_after_hours": None,
    }  # fmt: skip


def test_changing_a_categorys_hours_keeps_its_name_state_and_team_and_sets_the_normal_priority():
    current = {"code": "repair", "name": "水电维修", "active": False, "team": "维修队", "sla": {}}
    assert category_payload({"response_hours": "1", "resolution_hours": "36", "name": "改名"}, current) == {
        "code": "repair", "name": "水电维修", "active": False, "team": "维修队",
        "sla": {"normal": {"response_hours": 1, "resolution_hours": 36}},
    }  # fmt: skip


def test_nested_errors_land_on_the_form_field_that_was_typed_in_chinese():
    sla = {"sla": {"normal": {"value": {"resolution_hours": ["must not be shorter than response_hours"]}}}}
    assert said({k: v[0] for k, v in sla_errors(sla).items()}) == {"resolution_hours": "办结时限不能短于响应时限"}
    quiet = {"quiet_hours": {"start": ["bad"], "timezone": ["unknown time zone"]}}
    assert quiet_errors(quiet) == {"quiet_start": ["bad"], "timezone": ["unknown time zone"]}
    url = {"url": "must be http(s) to a public address, without user or password"}
    assert said(url) == {"url": "只能是 http(s) 的公网地址，且不能含用户名或密码"}


def test_a_webhook_form_takes_every_ticked_event():
    form = MultiDict([("url", " https://example.com/h "), ("event_types", "case.closed"), ("event_types", "x")])
    assert webhook_payload(form) == {"url": "https://example.com/h", "event_types": ["case.closed", "x"]}
