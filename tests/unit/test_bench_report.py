"""The benchmark's pure parts: percentiles, the ratio to the broker, the shape of results.json."""

import json
import math
from datetime import UTC, datetime

import pytest

from bench.perf import report

pytestmark = pytest.mark.unit


def test_percentile_interpolates_between_ranks_like_numpy():
    values = [10.0, 20.0, 30.0, 40.0]
    assert report.percentile(values, 0) == 10.0
    assert report.percentile(values, 50) == 25.0
    assert report.percentile(values, 100) == 40.0
    assert report.percentile(values, 99) == pytest.approx(39.7)


def test_percentile_ignores_input_order():
    assert report.percentile([5.0, 1.0, 3.0], 50) == 3.0


def test_percentile_of_nothing_is_none():
    assert report.percentile([], 99) is None


def test_a_missing_sample_makes_the_tail_unknown_not_fast():
    samples = [1.0] * 98 + [math.inf, math.inf]
    assert report.percentile(samples, 50) == 1.0
    assert report.percentile(samples, 99) is None


def test_percentile_outside_0_to_100_is_an_error():
    with pytest.raises(ValueError):
        report.percentile([1.0], 101)


def test_ratio_of_closures_to_the_raw_consume_rate():
    assert report.ratio(300.0, 12_000.0) == 0.025
    assert report.ratio(None, 12_000.0) is None
    assert report.ratio(300.0, None) is None
    assert report.ratio(300.0, 0.0) is None


def test_figures_have_every_key_numbers_only_and_null_when_unmeasured():
    figures = report.figures({"closures_per_s": 150.0, "raw_kombu_consume_per_s": 6000.0, "extra": 1})
    assert list(figures) == list(report.KEYS)
    assert figures["closures_per_s"] == 150.0
    assert figures["closures_to_raw_ratio"] == 0.025
    assert figures["broadcast_10k_s"] is None
    assert "extra" not in figures


def test_figures_turn_infinities_and_non_numbers_into_null():
    figures = report.figures({"close_to_survey_p99_ms": math.inf, "post_cases_rps": "fast", "stats_1m_ms": True})
    assert figures["close_to_survey_p99_ms"] is None
    assert figures["post_cases_rps"] is None
    assert figures["stats_1m_ms"] is None


def test_the_ratio_is_derived_not_taken_from_the_measurements():
    figures = report.figures({"closures_to_raw_ratio": 0.9})
    assert figures["closures_to_raw_ratio"] is None


def test_document_carries_machine_commit_figures_and_why_a_figure_is_null():
    doc = report.document(
        {"closures_per_s": 120.04, "raw_kombu_consume_per_s": 8000.0},
        {"cpus": 2},
        "abc123",
        {"broadcast": "no broadcasts API yet"},
        {"loop": {"clients": 16}},
        {"mode": "quick"},
        when=datetime(2026, 11, 28, 14, 0, 5, 123, tzinfo=UTC),
    )
    assert doc["timestamp"] == "2026-11-28T14:00:05Z"
    assert doc["git_commit"] == "abc123"
    assert doc["machine"] == {"cpus": 2}
    assert doc["settings"] == {"mode": "quick"}
    assert {key: doc[key] for key in report.KEYS} == report.figures(doc)
    assert doc["closures_per_s"] == 120.0
    assert doc["closures_to_raw_ratio"] == 0.015
    assert doc["notes"] == {"broadcast": "no broadcasts API yet"}
    assert doc["details"] == {"loop": {"clients": 16}}
    json.dumps(doc)  # serialisable as it stands


def test_verdicts_against_the_issue_targets():
    assert report.verdict("closures_per_s", 300.0) == "met"
    assert report.verdict("closures_per_s", 299.9) == "missed"
    assert report.verdict("close_to_survey_p99_ms", 250.0) == "met"
    assert report.verdict("close_to_survey_p99_ms", 251.0) == "missed"
    assert report.verdict("max_service_rss_mb", None) == "not measured"
    assert report.verdict("raw_kombu_consume_per_s", 12_000.0) == ""


def test_table_shows_every_figure_its_verdict_and_the_notes():
    doc = report.document({"closures_per_s": 350.0}, {}, None, {"stats": "not importable"}, {}, {})
    lines = report.table(doc).splitlines()
    rows = {line.split()[0]: line for line in lines[2 : 2 + len(report.KEYS)]}
    assert list(rows) == list(report.KEYS)
    assert rows["closures_per_s"].split()[1:] == ["350.0", "/s", ">=", "300", "met"]
    assert rows["stats_1m_ms"].split()[1:] == ["null", "ms", "<=", "200", "not", "measured"]
    assert lines[-1] == "note: stats: not importable"


def test_write_keeps_the_latest_and_a_copy_named_by_time(tmp_path):
    doc = report.document({}, {}, None, {}, {}, {}, when=datetime(2026, 11, 28, 14, 0, 5, tzinfo=UTC))
    copy = report.write(doc, tmp_path / "results.json", tmp_path / "results")
    assert copy == tmp_path / "results" / "20261128T140005Z.json"
    assert json.loads((tmp_path / "results.json").read_text()) == doc
    assert json.loads(copy.read_text()) == doc
