"""Pure rules of the volunteers service: input validation, recurrence, hours totals, the public page."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from services.common.errors import ValidationFailed, validated
from services.gateway.calendar_page import calendar_page
from services.volunteers import hours, recurrence
from services.volunteers.schemas import (
    ActivityCreateSchema,
    SeriesCreateSchema,
    TeamCreateSchema,
    VolunteerCreateSchema,
    VolunteerUpdateSchema,
)

pytestmark = pytest.mark.unit


def errors_of(schema, payload) -> dict:
    with pytest.raises(ValidationFailed) as failed:
        validated(schema, payload)
    return failed.value.errors


# --- registry validation --------------------------------------------------------------------


def test_volunteer_input_is_normalised_and_bad_fields_are_named():
    ok = validated(
        VolunteerCreateSchema(),
        {
            "name": " 张红梅 ",
            "phone": "138 0013 8000",
            "estate_ids": ["e-1"],
            "party_member": True,
            "skills": ["visit", "medical"],
            "availability": [{"weekday": 5, "start": "09:00", "end": "11:30"}],
        },
    )
    assert (ok["name"], ok["phone"], ok["party_member"], ok["active"]) == ("张红梅", "+8613800138000", True, True)
    bad = errors_of(
        VolunteerCreateSchema(),
        {
            "name": "",
            "phone": "010-12345678",
            "estate_ids": [],
            "skills": ["dancing"],
            "availability": [
                {"weekday": 7, "start": "11:00", "end": "09:00"},
                {"weekday": 1, "start": "9am", "end": "10:00"},
            ],
        },
    )
    assert set(bad) == {"name", "phone", "estate_ids", "skills", "availability"}
    assert set(bad["availability"][0]) == {"weekday", "end"}
    assert "start" in bad["availability"][1]
    assert bad["skills"] == {
        0: [
            "Must be one of: visit, repair, electrical, plumbing, medical, haircut, escort, "
            "cultural, cleaning, knife_sharpening, appliance_repair, fire_safety."
        ]
    }


def test_a_slot_must_start_before_it_ends():
    bad = errors_of(VolunteerUpdateSchema(), {"availability": [{"weekday": 0, "start": "10:00", "end": "10:00"}]})
    assert bad == {"availability": {0: {"end": ["开始时间必须早于结束时间 (start must be before end)"]}}}


def test_a_team_leader_must_be_a_member():
    bad = errors_of(TeamCreateSchema(), {"name": "义务维修队", "leader_id": "v-1", "member_ids": ["v-2"]})
    assert bad == {"leader_id": ["队长必须是队员 (the leader must be a member)"]}


def test_activity_times_without_offset_are_shanghai_and_end_after_start():
    base = {"title": "消防讲座", "kind": "fire_safety_talk", "estate_ids": ["e-1"], "place": "活动室", "capacity": 30}
    ok = validated(
        ActivityCreateSchema(), base | {"starts_at": "2026-12-05T09:00", "ends_at": "2026-12-05T10:00+08:00"}
    )
    assert (ok["starts_at"], ok["ends_at"]) == (datetime(2026, 12, 5, 1, 0), datetime(2026, 12, 5, 2, 0))
    bad = errors_of(ActivityCreateSchema(), base | {"starts_at": "2026-12-05T10:00", "ends_at": "2026-12-05T09:00"})
    assert bad == {"ends_at": ["结束时间必须晚于开始时间 (ends_at must be after starts_at)"]}


def test_a_monthly_series_needs_its_week():
    bad = errors_of(
        SeriesCreateSchema(),
        {
            "title": "红色电影",
            "kind": "red_film",
            "estate_ids": ["e-1"],
            "place": "广场",
            "capacity": 0,
            "frequency": "monthly",
            "weekday": 5,
            "start": "19:00",
            "end": "21:00",
            "starts_on": "2026-12-01",
            "themes": {"2026-13": "x"},
        },
    )
    assert set(bad) == {"themes", "week_of_month"}


# --- recurrence -----------------------------------------------------------------------------


def test_weekly_dates_are_clipped_to_the_series_and_the_range():
    days = recurrence.occurrence_dates(
        frequency="weekly",
        weekday=2,
        week_of_month=None,
        starts_on=date(2026, 12, 3),
        until=date(2026, 12, 23),
        start=date(2026, 12, 1),
        end=date(2027, 1, 31),
    )
    assert days == [date(2026, 12, 9), date(2026, 12, 16), date(2026, 12, 23)]


def test_monthly_on_the_second_saturday_across_the_year_end():
    days = recurrence.occurrence_dates(
        frequency="monthly",
        weekday=5,
        week_of_month=2,
        starts_on=date(2026, 11, 1),
        until=None,
        start=date(2026, 11, 20),
        end=date(2027, 2, 13),
    )
    assert days == [date(2026, 12, 12), date(2027, 1, 9)]  # Nov 14 is before the range; Feb 13 is the (excluded) end


def test_local_times_become_utc_and_themes_name_the_month():
    assert recurrence.instants(date(2026, 12, 5), "07:30", "09:00") == (
        datetime(2026, 12, 4, 23, 30),
        datetime(2026, 12, 5, 1, 0),
    )
    assert recurrence.titled("红色电影", {"2026-12": "长津湖"}, date(2026, 12, 5)) == "红色电影·长津湖"
    assert recurrence.titled("红色电影", {"2026-12": "长津湖"}, date(2027, 1, 5)) == "红色电影"


# --- hours ----------------------------------------------------------------------------------


def line(volunteer, minutes, served_at, estate="e-1"):
    return hours.Line(volunteer, estate, minutes, served_at)


def test_totals_by_each_grouping_sum_whole_minutes_in_shanghai_months():
    lines = [
        line("v-1", 60, datetime(2026, 11, 30, 16, 30)),  # Dec 1, 00:30 in Shanghai
        line("v-1", 90, datetime(2026, 11, 30, 15, 0)),  # Nov 30, 23:00 in Shanghai
        line("v-2", 45, datetime(2026, 12, 3, 2, 0), estate="e-2"),
        line("v-2", -15, datetime(2026, 12, 3, 2, 0), estate="e-2"),  # a correction
    ]
    assert hours.totals(lines, "volunteer") == {"v-1": (150, 2), "v-2": (30, 2)}
    assert hours.totals(lines, "estate") == {"e-1": (150, 2), "e-2": (30, 2)}
    assert hours.totals(lines, "month") == {"2026-11": (90, 1), "2026-12": (90, 3)}
    assert hours.totals(lines, "year") == {"2026": (180, 4)}
    teams = {"repair": {"v-1", "v-2"}, "choir": {"v-2"}}
    assert hours.totals(lines, "team", teams) == {"repair": (180, 4), "choir": (30, 2)}
    assert [hours.in_period(x, 2026, 12) for x in lines] == [True, False, True, True]


def test_ranking_shares_ranks_on_equal_hours_and_leaves_out_zero():
    ranked = hours.ranking({"v-a": 120, "v-b": 300, "v-c": 120, "v-d": 60, "v-e": 0}, limit=10)
    assert ranked == [(1, "v-b", 300), (2, "v-a", 120), (2, "v-c", 120), (4, "v-d", 60)]
    assert hours.ranking({"v-a": 120, "v-b": 300}, limit=1) == [(1, "v-b", 300)]


# --- the public page ------------------------------------------------------------------------


def test_calendar_page_is_zh_cn_escaped_and_without_script():
    week = {
        "estate_id": "e-1",
        "week_start": "2026-11-30",
        "week_end": "2026-12-06",
        "days": [
            {"date": "2026-11-30", "activities": []},
            {
                "date": "2026-12-05",
                "activities": [
                    {
                        "title": "<script>alert(1)</script>义诊",
                        "kind": "free_clinic",
                        "starts_at": "2026-12-05T01:00:00Z",
                        "ends_at": "2026-12-05T04:00:00Z",
                        "place": "党群服务中心",
                        "status": "published",
                        "cancel_reason": None,
                        "capacity": 20,
                        "confirmed": 18,
                        "waiting": 0,
                    }
                ],
            },
        ],
    }
    page = calendar_page(week)
    assert '<html lang="zh-CN">' in page
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "12月5日 周六" in page and "09:00–12:00" in page and "剩余 2" in page
    assert 'href="?week_of=2026-11-23"' in page and 'href="?week_of=2026-12-07"' in page
