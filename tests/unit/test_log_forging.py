"""Log forging: what a request sends never starts a line of its own in the log."""

import io
import logging

import pytest

from services.common.logs import TextFormatter, escape_controls

pytestmark = pytest.mark.unit


def test_a_newline_in_a_logged_path_is_escaped_so_one_record_stays_one_line():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter("%(levelname)s %(name)s: %(message)s"))
    log = logging.getLogger("test.forging")
    log.addHandler(handler)
    log.propagate = False
    try:
        forged = "/api/v1/cases/x\n2026-12-01 09:00:00 gateway INFO admin signed in"
        log.warning("%s %s → %d", "GET", forged, 404)
    finally:
        log.removeHandler(handler)
    assert stream.getvalue().splitlines() == [
        "WARNING test.forging: GET /api/v1/cases/x\\n2026-12-01 09:00:00 gateway INFO admin signed in → 404"
    ]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("a\rb", "a\\rb"), ("\x1b[31mred", "\\x1b[31mred"), ("a\u2028b", "a\\u2028b"), ("漏水 3-2-501", "漏水 3-2-501")],
)
def test_control_characters_are_shown_as_escapes_and_other_text_unchanged(raw, shown):
    assert escape_controls(raw) == shown


def test_a_traceback_keeps_its_lines():
    formatter = TextFormatter("%(message)s")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), exc_info=True)
        import sys

        record.exc_info = sys.exc_info()
    text = formatter.format(record)
    assert text.splitlines()[0] == "failed" and text.splitlines()[-1] == "ValueError: boom"
