"""Every setting the platform reads is named once, with its default, in services/common/config.py,
and README's configuration table lists exactly those (issue 21: the notifications service read
about 30 variables outside config.py, and RETRY_DELAYS was restated at two call sites as "1")."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from services.common.config import DEFAULTS

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for p in (ROOT / "services").rglob("*.py") if "migrations" not in p.parts)
# Environment variables that are not settings: set by the platform for its own children.
INTERNAL = {"LIANXIN_SERVICE", "DEBIAN_FRONTEND", "PATH_INFO", "HOME"}
PER_SERVICE = re.compile(r"^[A-Z]+_DATABASE_URL$")


def calls(name: str):
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name:
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    yield path.relative_to(ROOT), node.lineno, first.value, node


def test_no_call_site_restates_a_settings_default():
    restated = [
        f"{path}:{line} {name}"
        for method in ("get", "number")
        for path, line, name, node in calls(method)
        if name in DEFAULTS and len(node.args) > 1
    ]
    assert restated == [], "read it with config.configured / setting / Settings.get: the default lives in DEFAULTS"


def test_every_variable_read_from_the_environment_is_a_setting_of_config_py():
    read = {
        (str(path), name)
        for path, _, name, node in calls("get")
        if isinstance(node.func.value, ast.Attribute)
        and node.func.value.attr == "environ"
        and isinstance(node.func.value.value, ast.Name)
        and node.func.value.value.id == "os"
    }
    unknown = sorted(f"{path}: {name}" for path, name in read if name not in DEFAULTS | dict.fromkeys(INTERNAL))
    unknown = [u for u in unknown if not PER_SERVICE.match(u.split(": ")[1])]
    assert unknown == []


def test_the_readme_table_lists_exactly_the_settings():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## Configuration (environment variables)", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])}
    named = {name for name in named if not PER_SERVICE.match(name) and not name.startswith("TEST_")}  # the tests' own
    assert sorted(set(DEFAULTS) - named) == [], "settings missing from README's table"
    assert sorted(named - set(DEFAULTS)) == [], "README names a setting config.py does not have"
