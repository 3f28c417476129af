"""Expected errors (a client's 404, 409, 422, a page's redirect to sign-in) log one line; faults keep tracebacks."""

import io
import logging
import sys

import pytest

from services.common import logs

pytestmark = pytest.mark.unit


@pytest.fixture
def service_log(monkeypatch):
    """The log set up as a service process sets it up (``logs.configure``), restored afterwards."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, logging.getLogger("nameko").level
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    logs.configure("surveys")
    try:
        yield out.getvalue
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        logging.getLogger("nameko").setLevel(saved[2])


def log_as_nameko(message: str) -> None:
    """What nameko's container logs when a worker raises (containers.py, _run_worker)."""
    try:
        raise LookupError("no survey for case 42")
    except LookupError as exc:
        if message.startswith("(expected)"):
            logging.getLogger("nameko.containers").warning(message, "<worker>", exc, exc_info=True)
        else:
            logging.getLogger("nameko.containers").exception(message, "<worker>", exc)


def test_an_expected_error_is_one_info_line_without_a_traceback(service_log):
    log_as_nameko("(expected) error handling worker %s: %s")
    lines = service_log().splitlines()
    assert len(lines) == 1
    assert " INFO " in lines[0]
    assert lines[0].endswith("(expected) error handling worker <worker>: no survey for case 42")


def test_a_real_fault_keeps_its_traceback(service_log):
    log_as_nameko("error handling worker %s: %s")
    out = service_log()
    assert " ERROR " in out.splitlines()[0] and "Traceback (most recent call last)" in out
    assert out.splitlines()[-1] == "LookupError: no survey for case 42"
