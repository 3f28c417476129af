"""A scratch copy of the tree under ``var/`` for tools that change code (mutants, guarantees off):
the working tree is never edited, and a process started in the copy imports the copy's code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("services", "tests", "pyproject.toml")


def scratch_copy(where: Path) -> Path:
    """A fresh copy of the code and tests at ``where`` (whatever was there is removed)."""
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "screenshots")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, where / name, ignore=ignore)
        else:
            shutil.copy2(source, where / name)
    return where


def imported_from(modules: list[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """The files a fresh process started in ``cwd`` with ``env`` imports ``modules`` from."""
    code = "import importlib, sys; print('\\n'.join(importlib.import_module(n).__file__ for n in sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, *modules], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split()
