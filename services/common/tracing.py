"""W3C trace context and the per-worker log context.

The gateway starts (or continues) a ``traceparent`` for each request; nameko carries it in
RPC and event headers (``nameko.traceparent``) and every event a worker emits copies it into
its envelope, so one case's whole loop shares one trace id. :class:`LogContext` makes the
trace id, request id, tenant, event and case of the current worker appear on every log line.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any

from nameko.extensions import DependencyProvider

TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
FIELDS = ("trace_id", "request_id", "tenant", "event_id", "event_type", "case_id")

_current = threading.local()  # green-local once eventlet has patched threading


def new_traceparent() -> str:
    return f"00-{os.urandom(16).hex()}-{os.urandom(8).hex()}-01"


def valid_traceparent(value: str | None) -> str | None:
    """The header if it is a well-formed version-00 traceparent, else None."""
    if value and TRACEPARENT.match(value.strip().lower()):
        trace_id = value.strip().lower()[3:35]
        if trace_id != "0" * 32:
            return value.strip().lower()
    return None


def trace_id_of(traceparent: str | None) -> str | None:
    match = TRACEPARENT.match(traceparent or "")
    return match.group(1) if match else None


def context_of(data: dict[str, Any], args: tuple = ()) -> dict[str, str | None]:
    """What to log about a worker: its trace and, for an event handler, the event."""
    context: dict[str, str | None] = {
        "trace_id": trace_id_of(data.get("traceparent")),
        "request_id": data.get("requestid"),
    }
    event = args[0] if args and isinstance(args[0], dict) and "specversion" in args[0] else None
    if event is not None:
        payload = event.get("data") if isinstance(event.get("data"), dict) else {}
        context |= {
            "tenant": event.get("tenant"),
            "event_id": event.get("id"),
            "event_type": event.get("type"),
            "case_id": payload.get("case_id"),
            "trace_id": context["trace_id"] or trace_id_of(event.get("traceparent")),
        }
    return context


def bind(**fields: str | None) -> None:
    """Add fields (e.g. the case id once known) to the current worker's log context."""
    current = getattr(_current, "fields", None)
    if current is not None:
        current.update({k: v for k, v in fields.items() if v})


class LogContext(DependencyProvider):
    """Sets the log context for each worker of the service it is declared on."""

    def worker_setup(self, worker_ctx: Any) -> None:
        _current.fields = context_of(worker_ctx.data, tuple(worker_ctx.args or ()))

    def worker_teardown(self, worker_ctx: Any) -> None:
        _current.fields = None


class ContextFilter(logging.Filter):
    """Copies the current worker's context onto each log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = getattr(_current, "fields", None) or {}
        for name in FIELDS:
            if not hasattr(record, name):
                setattr(record, name, current.get(name))
        return True
