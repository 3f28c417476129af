"""The import-cycle check `make lint` runs finds every cycle, and only cycles."""

from __future__ import annotations

import pytest

from tools.import_cycles import cycles

pytestmark = pytest.mark.unit


def test_a_tree_has_no_cycle() -> None:
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_two_modules_importing_each_other_are_a_cycle() -> None:
    assert cycles({"cli": {"platform"}, "platform": {"cli"}, "other": {"cli"}}) == [["cli", "platform"]]


def test_a_long_cycle_and_a_separate_pair_are_both_found() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "x": {"y"}, "y": {"x"}}
    assert cycles(edges) == [["a", "b", "c"], ["x", "y"]]


def test_a_module_named_only_as_an_import_is_still_walked() -> None:
    assert cycles({"a": {"b"}, "b": {"a"}} | {"z": {"a"}}) == [["a", "b"]]
