"""A quiet start: no process of ours prints eventlet's deprecation banner."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("module", ["services.cli", "services.runner"])
def test_importing_an_entry_point_prints_no_deprecation_banner(module):
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", f"import {module}"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "deprecated" not in (done.stdout + done.stderr).lower()
