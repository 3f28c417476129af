"""Unit tests for the follow-up visit (回访) assignment rule."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from services.volunteers.assignment import (
    AvailabilitySlot,
    Candidate,
    choose_visitor,
    next_after_decline,
    next_after_overdue,
    reassignment_exclusions,
)

pytestmark = pytest.mark.unit

ESTATE = "estate-hexie"
OTHER_ESTATE = "estate-xingfu"
# Wednesday 2024-06-05 02:00 UTC == Wednesday 10:00 Asia/Shanghai.
NOW = datetime(2024, 6, 5, 2, 0, tzinfo=UTC)


def _candidate(volunteer_id: str, **overrides: object) -> Candidate:
    fields: dict[str, object] = {
        "volunteer_id": volunteer_id,
        "active": True,
        "estate_ids": frozenset({ESTATE}),
        "skills": frozenset({"visit"}),
        "open_visits": 0,
        "visits_last_30_days": 0,
        "last_visit_at": datetime(2024, 5, 1, tzinfo=UTC),
        "availability": (),
    }
    fields.update(overrides)
    return Candidate(**fields)  # type: ignore[arg-type]


def _choose(candidates: list[Candidate], **kwargs: object) -> str | None:
    return choose_visitor(candidates, estate_id=ESTATE, now=NOW, **kwargs)  # type: ignore[arg-type]


# --- ordering -------------------------------------------------------------


def test_fewest_open_visits_wins_over_every_later_tie_break() -> None:
    best = _candidate(
        "v-z",
        open_visits=1,
        visits_last_30_days=9,
        last_visit_at=datetime(2024, 6, 4, tzinfo=UTC),
    )
    busier = _candidate(
        "v-a",
        open_visits=2,
        visits_last_30_days=0,
        last_visit_at=None,
    )
    assert _choose([busier, best]) == "v-z"


def test_equal_open_visits_fewest_visits_last_30_days_wins() -> None:
    best = _candidate(
        "v-z",
        open_visits=1,
        visits_last_30_days=2,
        last_visit_at=datetime(2024, 6, 4, tzinfo=UTC),
    )
    more_recent_work = _candidate(
        "v-a",
        open_visits=1,
        visits_last_30_days=3,
        last_visit_at=None,
    )
    assert _choose([more_recent_work, best]) == "v-z"


def test_equal_counts_longest_since_last_visit_wins() -> None:
    long_ago = _candidate("v-z", last_visit_at=datetime(2024, 3, 1, tzinfo=UTC))
    recent = _candidate("v-a", last_visit_at=datetime(2024, 6, 1, tzinfo=UTC))
    assert _choose([recent, long_ago]) == "v-z"


def test_equal_counts_never_visited_comes_first() -> None:
    never = _candidate("v-z", last_visit_at=None)
    very_long_ago = _candidate("v-a", last_visit_at=datetime(2000, 1, 1, tzinfo=UTC))
    assert _choose([very_long_ago, never]) == "v-z"


def test_full_tie_broken_by_volunteer_id() -> None:
    candidates = [_candidate("v-c"), _candidate("v-a"), _candidate("v-b")]
    assert _choose(candidates) == "v-a"
    assert _choose(list(reversed(candidates))) == "v-a"


# --- eligibility ----------------------------------------------------------


def test_inactive_volunteer_excluded() -> None:
    inactive = _candidate("v-a", active=False)
    active = _candidate("v-b", open_visits=5)
    assert _choose([inactive, active]) == "v-b"
    assert _choose([inactive]) is None


def test_volunteer_of_other_estate_excluded() -> None:
    elsewhere = _candidate("v-a", estate_ids=frozenset({OTHER_ESTATE}))
    local = _candidate("v-b", open_visits=5)
    assert _choose([elsewhere, local]) == "v-b"
    assert _choose([elsewhere]) is None


def test_volunteer_missing_required_skill_excluded() -> None:
    unskilled = _candidate("v-a", skills=frozenset({"repair"}))
    skilled = _candidate("v-b", open_visits=5)
    assert _choose([unskilled, skilled]) == "v-b"
    assert _choose([unskilled]) is None


def test_case_handler_excluded() -> None:
    handler = _candidate("v-a")
    other = _candidate("v-b", open_visits=5)
    exclude = reassignment_exclusions("v-a", declined_by=(), taken_from=())
    assert exclude == frozenset({"v-a"})
    assert _choose([handler, other], exclude=exclude) == "v-b"
    assert _choose([handler], exclude=exclude) is None


# --- decline and overdue --------------------------------------------------


def test_decline_reassigns_to_next_best_and_excludes_all_decliners() -> None:
    pool = [
        _candidate("v-handler"),
        _candidate("v-a", open_visits=0),
        _candidate("v-b", open_visits=1),
        _candidate("v-c", open_visits=2),
        _candidate("v-d", open_visits=3),
    ]
    first = _choose(pool, exclude=reassignment_exclusions("v-handler", (), ()))
    assert first == "v-a"

    second = next_after_decline(pool, estate_id=ESTATE, now=NOW, handler_id="v-handler", declined_by=["v-a"])
    assert second == "v-b"

    third = next_after_decline(pool, estate_id=ESTATE, now=NOW, handler_id="v-handler", declined_by=["v-a", "v-b"])
    assert third == "v-c"

    nobody = next_after_decline(
        pool,
        estate_id=ESTATE,
        now=NOW,
        handler_id="v-handler",
        declined_by=["v-a", "v-b", "v-c", "v-d"],
    )
    assert nobody is None


def test_overdue_reassigned_once_then_left_for_staff() -> None:
    pool = [
        _candidate("v-handler"),
        _candidate("v-a", open_visits=0),
        _candidate("v-b", open_visits=1),
        _candidate("v-c", open_visits=2),
    ]
    moved = next_after_overdue(
        pool,
        estate_id=ESTATE,
        now=NOW,
        handler_id="v-handler",
        taken_from="v-a",
        overdue_reassignments=0,
    )
    assert moved == "v-b"

    again = next_after_overdue(
        pool,
        estate_id=ESTATE,
        now=NOW,
        handler_id="v-handler",
        taken_from="v-b",
        overdue_reassignments=1,
    )
    assert again is None


# --- availability ---------------------------------------------------------


def test_slot_only_next_week_not_eligible() -> None:
    # NOW is Wednesday 10:00 Shanghai; window runs to Saturday 10:00.
    # A Tuesday slot next occurs next week.
    tuesday = AvailabilitySlot(weekday=1, start=time(9, 0), end=time(11, 0))
    assert _choose([_candidate("v-a", availability=(tuesday,))]) is None


def test_slot_on_day_after_tomorrow_eligible() -> None:
    friday = AvailabilitySlot(weekday=4, start=time(14, 0), end=time(16, 0))
    assert _choose([_candidate("v-a", availability=(friday,))]) == "v-a"


def test_slot_matched_in_shanghai_time_across_utc_date_line() -> None:
    # Sunday 23:30 UTC is Monday 07:30 in Shanghai, inside a Monday 07:00-09:00
    # slot. The narrow window makes the test fail if the slot were read in UTC.
    sunday_night_utc = datetime(2024, 6, 2, 23, 30, tzinfo=UTC)
    monday_morning = AvailabilitySlot(weekday=0, start=time(7, 0), end=time(9, 0))
    chosen = choose_visitor(
        [_candidate("v-a", availability=(monday_morning,))],
        estate_id=ESTATE,
        now=sunday_night_utc,
        window=timedelta(hours=1),
    )
    assert chosen == "v-a"


def test_slot_already_over_in_shanghai_not_eligible() -> None:
    # Sunday 22:00-23:59 is already past in Shanghai (it is Monday 07:30 there),
    # even though UTC still says Sunday 23:30.
    sunday_night_utc = datetime(2024, 6, 2, 23, 30, tzinfo=UTC)
    sunday_late = AvailabilitySlot(weekday=6, start=time(22, 0), end=time(23, 59))
    chosen = choose_visitor(
        [_candidate("v-a", availability=(sunday_late,))],
        estate_id=ESTATE,
        now=sunday_night_utc,
        window=timedelta(hours=1),
    )
    assert chosen is None


def test_empty_availability_treated_as_always_available() -> None:
    assert _choose([_candidate("v-a", availability=())]) == "v-a"


# --- fairness -------------------------------------------------------------


def test_thirty_sequential_assignments_spread_evenly_over_three_volunteers() -> None:
    pool = {vid: _candidate(vid) for vid in ("v-a", "v-b", "v-c")}
    counts: Counter[str] = Counter()
    for _ in range(30):
        chosen = _choose(list(pool.values()))
        assert chosen is not None
        counts[chosen] += 1
        pool[chosen] = replace(pool[chosen], open_visits=pool[chosen].open_visits + 1)
    assert counts == Counter({"v-a": 10, "v-b": 10, "v-c": 10})
