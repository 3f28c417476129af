"""``python -m bench.faulty_service NAME``: the real service, with a handler that fails on cue.

The poison fault needs "a handler that always fails for one event" and, later, "the fault
removed" so that ``lianxin dlq replay`` can succeed. The services carry no fault hooks of their
own; this wrapper, used only by the reliability run, patches the follow-up steps of case.closed
(the visit in volunteers, the survey in surveys) to raise while the case's id is listed in the
file named by ``LIANXIN_POISON_FILE``. Emptying the file removes the fault.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()  # as services.runner does, before anything else is imported

import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from bench.poison import FILE_SETTING, MARK  # noqa: E402
from services import runner  # noqa: E402
from services.surveys import issuing  # noqa: E402
from services.volunteers import visits  # noqa: E402


class Poisoned(RuntimeError):
    """The reliability run's poison: this handler fails for this event until the fault is removed."""


def poisoned_subjects() -> set[str]:
    path = os.environ.get(FILE_SETTING)
    if not path or not Path(path).exists():
        return set()
    return set(Path(path).read_text().split())


log = logging.getLogger("bench.faulty_service")


def failing_for_poison(step: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(session: Any, emit: Any, event: dict, *args: Any, **kwargs: Any) -> Any:
        if event["subject"] in poisoned_subjects():
            log.warning("%s %s (%s)", MARK, event["subject"], step.__name__)
            raise Poisoned(f"poisoned by the reliability run: {event['subject']}")
        return step(session, emit, event, *args, **kwargs)

    return wrapped


def main(argv: list[str] | None = None) -> int:
    visits.schedule_follow_up = failing_for_poison(visits.schedule_follow_up)
    issuing.issue = failing_for_poison(issuing.issue)
    return runner.main(argv)


if __name__ == "__main__":
    sys.exit(main())
