"""The workbench's volunteer, team and activity forms → the API's bodies, in milliseconds: what a
ticked box, a blank field or a typed number becomes, and which activities count as begun."""

from __future__ import annotations

from datetime import datetime

import pytest
from werkzeug.datastructures import MultiDict

from services.gateway.workbench_volunteers import (
    activity_payload,
    attendance_payload,
    said,
    split_by_time,
    team_payload,
    volunteer_payload,
)

pytestmark = pytest.mark.unit


def test_a_blank_phone_keeps_the_number_when_editing_and_unticked_boxes_say_no():
    form = MultiDict([("name", "李医生"), ("phone", " "), ("estate_ids", "e1"), ("skills", "medical")])
    assert volunteer_payload(form, editing=True) == {
        "name": "李医生", "party_member": False, "estate_ids": ["e1"], "skills": ["medical"], "active": False,
    }  # fmt: skip
    assert volunteer_payload(form)["phone"] == ""  # registering: the service says it is required


def test_the_leader_is_always_a_member_once():
    form = MultiDict([("name", "维修队"), ("leader_id", "v1"), ("member_ids", "v2"), ("member_ids", "v1")])
    assert team_payload(form)["member_ids"] == ["v1", "v2"]


def test_numbers_are_numbers_and_anything_else_goes_to_the_service_as_typed():
    form = {"title": "义诊", "kind": "free_clinic", "estate_id": "e1", "place": "中心", "capacity": "很多",
            "starts_at": "2099-01-03T09:00", "ends_at": "", "shift_name": "量血压", "shift_needed": "3"}  # fmt: skip
    payload = activity_payload(form)
    assert (payload["capacity"], payload["shifts"], payload["estate_ids"]) == (
        "很多",
        [{"name": "量血压", "needed": 3}],
        ["e1"],
    )
    assert "ends_at" not in payload and payload["publish"] is False  # missing: required, said by the service
    assert activity_payload(form | {"shift_name": " "})["shifts"] == []


def test_attendance_lists_every_sign_up_shown_ticked_or_not():
    form = MultiDict([("resident", "r1"), ("resident", "r2"), ("resident_came", "r2"), ("volunteer", "s1")])
    assert attendance_payload(form) == {
        "residents": [{"signup_id": "r1", "attended": False}, {"signup_id": "r2", "attended": True}],
        "volunteers": [{"signup_id": "s1", "attended": False}],
    }


def test_begun_activities_are_past_newest_first_and_a_shift_s_nested_messages_are_one_list():
    now = datetime(2026, 12, 1, 12, 0)
    rows = [{"id": i, "starts_at": at} for i, at in
            (("a", "2026-11-30T01:00:00Z"), ("b", "2026-12-03T01:00:00Z"), ("c", "2026-12-01T12:00:00Z"),
             ("d", "2026-12-02T01:00:00Z"))]  # fmt: skip
    groups = split_by_time(rows, now)
    assert ([a["id"] for a in groups["upcoming"]], [a["id"] for a in groups["past"]]) == (["d", "b"], ["c", "a"])
    assert said({0: {"needed": ["Not a valid integer."]}}) == ["Not a valid integer."]
