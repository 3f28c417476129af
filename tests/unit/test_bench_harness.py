"""The harness's other pure parts: households, phones, peak memory, the plot's history."""

import json
import os

import pytest

from bench.perf import broadcast, cpu, loop, plot, rss
from services.common.fields import mainland_mobile

pytestmark = pytest.mark.unit


def test_each_case_of_a_run_has_its_own_valid_mobile():
    phones = [loop.phone_of(n) for n in (1, 2, 99_999_999)]
    assert phones == ["+8613900000001", "+8613900000002", "+8613999999999"]
    assert [mainland_mobile(p) for p in phones] == phones


def test_ten_thousand_distinct_households_in_the_room_number_format():
    households = [broadcast.household(n) for n in range(10_000)]
    assert len(set(households)) == 10_000
    assert households[:3] == ["1-1-101", "1-1-102", "1-1-201"]
    assert households[-1] == "50-4-2502"


def test_contact_fields_read_from_the_openapi_request_schema():
    doc = {
        "paths": {
            "/api/v1/contacts": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ContactCreate"}}}
                    }
                }
            }
        },
        "components": {"schemas": {"ContactCreate": {"properties": {"phone": {}, "household": {}}}}},
    }
    assert broadcast.contact_fields(doc) == {"phone", "household"}
    assert broadcast.contact_fields({"paths": {}}) == set()


def test_peak_rss_of_this_process_and_of_a_vanished_one():
    peak = rss.peak_rss_mb(os.getpid())
    assert peak is not None and peak > 1
    assert rss.peak_rss_mb(2**22 + 12345) is None


def test_peak_rss_keeps_the_highest_sample_per_service():
    peaks = rss.PeakRss()
    peaks.sample({"gateway": [os.getpid()], "requests": [2**22 + 12345]})
    assert list(peaks.peaks) == ["gateway"]
    assert peaks.max_mb() == peaks.peaks["gateway"]
    assert rss.PeakRss().max_mb() is None


def test_plot_history_orders_runs_and_skips_unmeasured_points(tmp_path):
    (tmp_path / "b.json").write_text(json.dumps({"timestamp": "2026-11-28T15:00:00Z", "closures_per_s": None}))
    (tmp_path / "a.json").write_text(json.dumps({"timestamp": "2026-11-28T14:00:00Z", "closures_per_s": 120.0}))
    (tmp_path / "broken.json").write_text("{")
    docs = plot.history(tmp_path)
    assert [d["timestamp"] for d in docs] == ["2026-11-28T14:00:00Z", "2026-11-28T15:00:00Z"]
    times, values = plot.series(docs, "closures_per_s")
    assert values == [120.0]
    assert [t.hour for t in times] == [14]


def test_a_broadcast_is_finished_when_nothing_is_pending_and_every_household_was_texted():
    assert broadcast.finished({"total": 3, "pending": 0, "sent": 3, "failed": 0, "status": "done"}, 3)
    assert broadcast.finished({"total": 3, "pending": 0, "sent": 2, "failed": 1}, 3)
    assert not broadcast.finished({"total": 3, "pending": 1, "sent": 2, "failed": 0, "status": "sending"}, 3)
    assert not broadcast.finished({"total": 3, "pending": 0, "sent": 3, "failed": 0, "status": "done"}, 2)
    assert not broadcast.finished({"total": 0, "pending": 0, "sent": 0, "failed": 0, "status": "done"}, 0)


def test_plot_writes_a_png_of_the_history(tmp_path):
    for hour, rate in ((14, 120.0), (15, 140.0)):
        doc = {"timestamp": f"2026-11-28T{hour}:00:00Z", "closures_per_s": rate, "post_cases_rps": None}
        (tmp_path / f"{hour}.json").write_text(json.dumps(doc))
    assert plot.main(["--results", str(tmp_path), "--out", str(tmp_path / "history.png")]) == 0
    assert (tmp_path / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_results_says_so(tmp_path):
    assert plot.main(["--results", str(tmp_path / "empty")]) == 1


def test_cpu_seconds_of_this_process_and_of_a_vanished_one():
    assert cpu.cpu_seconds(os.getpid()) > 0
    assert cpu.cpu_seconds(2**22 + 12345) is None


def test_cpu_cost_per_closure_for_each_service_and_in_total():
    before = {"requests": 10.0, "notifications": 20.0}
    after = {"requests": 10.5, "notifications": 21.0}
    assert cpu.per_item_ms(before, after, 100) == {"requests": 5.0, "notifications": 10.0, "total": 15.0}
    assert cpu.per_item_ms(before, after, 0) == {}
