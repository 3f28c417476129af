"""The CLI finds the project's data wherever it is run from, and never makes an empty database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.common import config

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_without_a_setting_the_data_is_the_projects_var_whatever_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert config.var_dir({}) == ROOT / "var"
    assert config.database_url("gateway", {}, create=False) == f"sqlite:///{ROOT / 'var' / 'gateway.sqlite3'}"
    assert config.var_dir({"LIANXIN_VAR_DIR": "elsewhere"}) == tmp_path / "elsewhere"


def test_a_command_that_reads_data_where_there_is_none_says_where_it_looked_and_creates_nothing(tmp_path):
    empty = tmp_path / "no-data-here"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL")} | {"LIANXIN_VAR_DIR": str(empty)}
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "tenant", "list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"no gateway database at {empty / 'gateway.sqlite3'}" in done.stderr
    assert "LIANXIN_VAR_DIR" in done.stderr and "make run" in done.stderr and "Traceback" not in done.stderr
    assert not empty.exists() and list(tmp_path.iterdir()) == []  # nothing was created, here or there
