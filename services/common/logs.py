"""Logging set-up shared by every process (text for people, JSON for machines)."""

from __future__ import annotations

import json
import logging
import os
import re
import sys

from services.common.phones import mask_phones
from services.common.tracing import FIELDS, ContextFilter

# C0 and C1 controls and the Unicode line separators: a request path or header holding one of
# these (``%0a`` decodes to a newline) would otherwise start a forged log line.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """Control characters shown as escapes (``\\n``, ``\\x1b``): one record stays one line."""
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class MaskPhones(logging.Filter):
    """Every mainland mobile in a record's message and arguments becomes ``138****8000``.

    A residents' phone reaches a log in many ways (a path, an error message, a dict of an
    event's data, a library's own line); masking each call site misses some, so every handler
    :func:`configure` installs masks the finished message once. The arguments are merged into
    the message first: a phone inside a dict or an exception argument is masked too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: logging reports it itself, leave the record as is
            return True
        record.msg, record.args = mask_phones(message), None
        if record.exc_text:  # already formatted by another handler
            record.exc_text = mask_phones(record.exc_text)
        return True


class TextFormatter(logging.Formatter):
    """The text format, with control characters in the message escaped (the traceback keeps its lines)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = escape_controls(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: object) -> str:  # noqa: N802 - logging's name
        return mask_phones(super().formatException(ei))  # an exception's message may hold a phone


class ExpectedErrorsInOneLine(logging.Filter):
    """nameko logs an entrypoint's *expected* exception (our typed 4xx errors: not found, conflict,
    a page's redirect to sign-in) as a WARNING with its whole traceback. Those are answers to a
    client, not faults: one INFO line each (the access log already has the status); tracebacks
    stay for real faults."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "nameko.containers" and str(record.msg).startswith("(expected)"):
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "service": os.environ.get("LIANXIN_SERVICE", ""),
            "message": record.getMessage(),
        }
        entry |= {name: getattr(record, name) for name in FIELDS if getattr(record, name, None)}
        if record.exc_info:
            entry["exc"] = mask_phones(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(service: str, level: str = "INFO", fmt: str = "text") -> None:
    os.environ["LIANXIN_SERVICE"] = service
    handler = logging.StreamHandler(sys.stdout)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            TextFormatter(f"%(asctime)s {service:<13} %(levelname)-7s [%(trace_id)s] %(name)s: %(message)s")
        )
    handler.addFilter(ContextFilter())
    handler.addFilter(MaskPhones())
    handler.addFilter(ExpectedErrorsInOneLine())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("amqp", "kombu", "nameko", "sqlalchemy.engine", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
