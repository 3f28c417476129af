"""The reliability harness itself, small: the ledger it reports must match what happened.

`make reliability` is the real proof (2,000 cases per fault; CI runs the bounded form). This
runs two of its faults on 20 cases inside `make test`, so a change that breaks the harness, the
poison fault's dead-letter and replay path or the restart of a killed process fails here first.
"""

import json
import os
import re

import pytest

from bench import reliability

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]


def test_poison_and_a_killed_service_lose_nothing_on_a_small_load(tmp_path):
    report = tmp_path / "report.json"
    argv = ["--faults", "poison,kill-surveys", "--cases", "20", "--rate", "20", "--report", str(report)]
    if os.environ.get("TEST_DATABASE_URL"):
        argv += ["--postgres", os.environ["TEST_DATABASE_URL"]]
    assert reliability.main(argv) == 0
    rows = json.loads(report.read_text())
    assert [(r["fault"], r["closed"], r["lost"], r["duplicated"], r["unexpected"]) for r in rows] == [
        ("poison", 21, 0, 0, 0),  # the 20 cases and the poisoned one, replayed
        ("kill-surveys", 20, 0, 0, 0),
    ]
    assert not any(r.get("failed") for r in rows)
    notes = rows[0]["notes"].split("; ")
    handled = [n for n in notes if " handled it " in n]  # "... 4 times, [0.5, 1.0, 2.0] s apart (...)"
    assert [n.split(",")[0] for n in handled] == ["volunteers handled it 4 times", "surveys handled it 4 times"]
    assert [n for n in notes if n not in handled] == [
        "poison in volunteers: dead-lettered after [4] attempts",
        "poison in surveys: dead-lettered after [4] attempts",
        "after the fault: replayed 2 dead letters",
        "dead letter in volunteers marked replayed",
        "dead letter in surveys marked replayed",
    ]
    # "surveys SIGKILL pid [A], exit [-9]; started again after 1 s as pid [B]", A != B (checked)
    assert re.fullmatch(
        r"surveys SIGKILL pid \[(\d+)\], exit \[-9\]; started again after 1 s as pid \[(\d+)\]", rows[1]["notes"]
    ), rows[1]["notes"]
