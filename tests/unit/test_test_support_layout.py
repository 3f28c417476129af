"""Test plumbing stays out of the product, and tests share helpers only through tests/support.

The image installs ``services*`` alone (pyproject.toml), so a vhost/database/proxy helper under
services/ would ship to production; and a test that imports another test module drags that
module's tests, fixtures and import-time work along (issue 21, item 4). Both are read from the
source with ``ast``, so nothing here imports the code it judges.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = ROOT / "tests" / "support"
# What only a test harness does: the broker's admin command, and making or dropping databases.
HARNESS_WORDS = ("rabbitmqctl", "add_vhost", "delete_vhost", "CREATE DATABASE", "DROP DATABASE")


def python_files(top: str) -> list[Path]:
    return sorted(path for path in (ROOT / top).rglob("*.py") if "__pycache__" not in path.parts)


def imported_modules(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in ``path``, also those inside functions; relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # `from tests import conftest` names a module too
                yield node.lineno, f"{module}.{alias.name}"


def is_test_module(module: str) -> bool:
    """A module pytest collects or loads as fixtures: what other modules must not import."""
    last = module.rsplit(".", 1)[-1]
    in_tests = module == "tests" or module.startswith("tests.")
    return last == "conftest" or last.startswith("test_") or (in_tests and not is_support(module))


def is_support(module: str) -> bool:
    return module == "tests.support" or module.startswith("tests.support.")


def test_the_scan_sees_the_product_and_the_tests() -> None:
    assert len(python_files("services")) > 50 and len(python_files("tests")) > 50


def test_no_module_of_the_product_is_test_plumbing() -> None:
    named = [str(p.relative_to(ROOT)) for p in python_files("services") if p.name in ("testing.py", "prepare.py")]
    assert named == [], "test plumbing belongs in tests/support, which the image does not install"


def test_no_module_of_the_product_imports_pytest_or_the_tests() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in python_files("services")
        for line, module in imported_modules(path)
        if module.split(".")[0] in ("pytest", "tests", "_pytest")
    ]
    assert found == []


def test_no_module_of_the_product_drives_rabbitmqctl_or_makes_databases() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {word}"
        for path in python_files("services")
        for word in HARNESS_WORDS
        if word in path.read_text(encoding="utf-8")
    ]
    assert found == [], "vhosts and private databases are the tests' (tests/support/infra.py)"


@pytest.mark.parametrize("top", ["tests", "bench", "tools"])
def test_nothing_imports_a_test_module_only_tests_support(top: str) -> None:
    """A test, a conftest, the support package, the benchmark and the tools share only tests.support."""
    found = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in python_files(top)
        for line, module in imported_modules(path)
        if is_test_module(module)
    ]
    assert found == [], "move the helper into tests/support (a fixture into a conftest) and import it from there"


def test_the_support_package_is_there_with_the_harness() -> None:
    assert (SUPPORT / "__init__.py").is_file() and (SUPPORT / "infra.py").is_file()
    assert (SUPPORT / "prepare.py").is_file()
    assert not (ROOT / "tests" / "__init__.py").exists(), "tests/ stays a namespace package (importlib mode)"
