"""No API key is written down anywhere in the repository (issue 18: `make run` seeded fixed,
guessable demo keys, a supervisor key among them). Keys are generated when issued; tests issue
their own, and the docs show ``$KEY`` with the command that gives one."""

import re
import subprocess
from pathlib import Path

import pytest

from services.gateway.tenants import KEY_PREFIX

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
#: The prefix followed by any key character: a key, or a key-shaped placeholder someone could try.
KEY_LITERAL = re.compile(re.escape(KEY_PREFIX) + r"[A-Za-z0-9_\-]+")


def repository_files() -> list[Path]:
    """Every file git tracks or would track (new files included), read as text where it is text."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def test_no_key_literal_exists_in_code_tests_docs_or_deploy_files():
    files = repository_files()
    found = [
        f"{path.relative_to(ROOT)}: {match}"
        for path in files
        for match in KEY_LITERAL.findall(path.read_text(encoding="utf-8", errors="ignore"))
    ]
    assert len(files) > 100 and found == []


def test_the_pattern_finds_a_key_and_leaves_the_bare_prefix():
    assert KEY_LITERAL.findall(f"Bearer {KEY_PREFIX}demo_branch_0000 and {KEY_PREFIX}…") == [
        f"{KEY_PREFIX}demo_branch_0000"
    ]
