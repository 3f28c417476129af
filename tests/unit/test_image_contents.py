"""The production-image check of `make image-test` (tools/image_test.py) finds test helpers, and only those.

`make image-test` lists the built image's files (podman export) and fails on any finding; here
the same function reads made-up file lists, so the check itself is tested without Podman.
"""

from __future__ import annotations

import pytest

from tools.image_test import find_test_helpers, helper_imports

pytestmark = pytest.mark.unit

SITE = "opt/lianxin/lib/python3.11/site-packages"


def image(**sources: bytes) -> dict[str, bytes | None]:
    """A plausible production image, plus the given lianxin sources (path under site-packages)."""
    files: dict[str, bytes | None] = {
        "usr/lib/python3.11/unittest/__init__.py": None,  # the standard library's is not ours
        "usr/local/bin/lianxin-healthcheck": None,
        f"{SITE}/eventlet/__init__.py": None,
        f"{SITE}/botocore/data/tests/x.json": None,  # a dependency's own data, not a test helper
        f"{SITE}/services/__init__.py": b"",
        f"{SITE}/services/common/config.py": b"import os\nfrom services.common import ids\n",
        f"{SITE}/services/requests/service.py": b"from nameko.rpc import rpc\n",
    }
    files.update({f"{SITE}/{path}": content for path, content in sources.items()})
    return files


def test_a_clean_image_has_no_finding():
    assert find_test_helpers(image()) == []


@pytest.mark.parametrize(
    "path",
    [
        "services/common/testing.py",
        "services/common/prepare.py",
        "services/requests/test_sla.py",
        "services/conftest.py",
    ],
)
def test_helper_modules_of_the_package_are_found(path):
    assert find_test_helpers(image(**{path: b""})) == [
        f"{SITE}/{path}: " + ("test helper module" if "common" in path else "test module")
    ]


@pytest.mark.parametrize("package", ["tests", "bench", "tools", "pytest", "_pytest"])
def test_test_packages_in_site_packages_are_found(package):
    files = image() | {f"{SITE}/{package}/__init__.py": None}
    assert find_test_helpers(files) == [f"{SITE}/{package}/__init__.py: test package {package}"]


@pytest.mark.parametrize("tree", ["tests/unit/test_x.py", "src/tests/conftest.py", "bench/reliability.py"])
def test_the_repositorys_trees_at_the_image_root_are_found(tree):
    findings = find_test_helpers(image() | {tree: None})
    assert len(findings) == 1 and findings[0].startswith(tree)


@pytest.mark.parametrize(
    "source",
    [
        b"import pytest\n",
        b"from services.common.testing import Platform\n",
        b"from services.common import testing\n",
        b"def f():\n    from tests.support import infra\n",
        b"import bench.ledger as ledger\n",
    ],
)
def test_a_lianxin_module_importing_a_test_helper_is_found(source):
    findings = find_test_helpers(image(**{"services/cli.py": source}))
    assert len(findings) == 1 and findings[0].startswith(f"{SITE}/services/cli.py: imports ")


def test_relative_imports_are_resolved_against_the_modules_package():
    findings = find_test_helpers(image(**{"services/common/broker.py": b"from . import testing\n"}))
    assert findings == [f"{SITE}/services/common/broker.py: imports services.common.testing"]
    assert helper_imports(b"from ..common.testing import wait_for\n", "services.gateway") == ["services.common.testing"]


def test_imports_that_only_look_alike_are_not_findings():
    source = b"import pytest_like\nfrom services.common.testing_tools import x\nfrom . import testing\nimport os\n"
    assert helper_imports(source, "services.gateway") == []
