"""The reliability checker's verdict: it must see every kind of failure it exists to catch."""

from collections import Counter

import pytest

from bench.ledger import Tally, judge

pytestmark = pytest.mark.unit


def test_one_of_each_per_closed_case_is_complete():
    one = Counter({"a": 1, "b": 1})
    assert judge(one, one, one, {"a", "b"}) == Tally(closed=2, lost=0, duplicated=0, unexpected=0, complete=True)


def test_a_missing_visit_survey_or_notification_is_lost_and_two_of_any_is_duplicated():
    visits = Counter({"complete": 1, "no-visit": 0, "no-survey": 1, "no-link": 1, "twice": 2})
    surveys = Counter({"complete": 1, "no-visit": 1, "no-survey": 0, "no-link": 1, "twice": 1})
    notified = Counter({"complete": 1, "no-visit": 1, "no-survey": 1, "no-link": 0, "twice": 1})
    assert judge(visits, surveys, notified, set(visits)) == Tally(
        closed=5, lost=3, duplicated=1, unexpected=0, complete=False
    )


def test_anything_for_a_case_never_closed_is_unexpected():
    assert judge(Counter({"a": 1, "ghost": 1}), Counter({"a": 1}), Counter({"a": 1, "other": 1}), {"a"}) == Tally(
        closed=1, lost=0, duplicated=0, unexpected=2, complete=True
    )


def test_a_case_closed_but_not_yet_seen_anywhere_is_lost():
    assert judge(Counter(), Counter(), Counter(), {"a"}) == Tally(
        closed=1, lost=1, duplicated=0, unexpected=0, complete=False
    )


def test_the_poison_deliveries_are_read_from_a_service_log(tmp_path):
    from bench.faults import deliveries

    log = tmp_path / "volunteers.log"
    log.write_text(
        "2026-11-28 18:19:51,000 volunteers WARNING [t] bench.faulty_service: poisoned delivery of c-1 (issue)\n"
        "2026-11-28 18:19:51,200 volunteers INFO [t] other: poisoned delivery of c-2 (issue)\n"
        "2026-11-28 18:19:51,500 volunteers WARNING [t] bench.faulty_service: poisoned delivery of c-1 (issue)\n"
        "not a log line\n"
        "2026-11-28 18:19:53,750 volunteers WARNING [t] bench.faulty_service: poisoned delivery of c-1 (issue)\n",
        encoding="utf-8",
    )
    seen = deliveries(log, "c-1")
    assert [round(b - a, 2) for a, b in zip(seen, seen[1:], strict=False)] == [0.5, 2.25]


def test_recovery_runs_from_the_faults_end_to_the_last_effect_of_a_case_closed_before_it():
    from datetime import datetime, timedelta

    from bench.ledger import recovery_seconds

    end = datetime(2026, 12, 1, 12, 0, 0)
    closed_at = {"before": end - timedelta(seconds=5), "held": end - timedelta(seconds=1), "after": end + timedelta(60)}
    last = {
        "before": end - timedelta(seconds=4),  # done during the fault: no backlog
        "held": end + timedelta(seconds=7.5),  # held back by the fault: cleared 7.5 s after its end
        "after": end + timedelta(seconds=90),  # ordinary load after the fault: not recovery
    }
    assert recovery_seconds(end, closed_at, last) == 7.5
    assert recovery_seconds(end, closed_at, {"before": last["before"], "after": last["after"]}) == 0.0
