"""A process whose service container is being killed must exit, even if the kill hangs.

nameko kills a container when one of its threads fails (a publish that lost the broker, the
consumer watchdog). If the kill then never finishes, the process lives on with a dead
container: every HTTP request answers 500 (``ContainerBeingKilled``) and no supervisor restarts
it, because it never exits. Seen in a reliability run after RabbitMQ was killed: the gateway
hung like this for minutes. That cause is fixed in ``health.Health._watch`` (the watchdog
called ``container.kill`` from its own managed thread, and kill() killed that very thread
before marking the container dead); this guard stays as the backstop for any extension whose
kill blocks. It gives the kill ``grace`` seconds, then ends the process with a distinct code so
that the supervisor (compose, Kubernetes, ``lianxin run``) restarts it."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

EXIT_KILL_HUNG = 70


def being_killed_since(containers: Iterable[Any], since: float | None, now: float) -> float | None:
    """When the first container started dying (or None while none is)."""
    if any(getattr(container, "_being_killed", False) for container in containers):
        return since if since is not None else now
    return None


def guard(
    containers: Callable[[], Iterable[Any]],
    grace: float = 20.0,
    poll: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    exit_: Callable[[int], None] = os._exit,
) -> None:
    """Run forever (in a green thread): exit ``grace`` s after a container began dying."""
    since = None
    while True:
        since = being_killed_since(containers(), since, clock())
        if since is not None and clock() - since >= grace:
            log.critical("a service container has been dying for %.0fs without exiting: ending the process", grace)
            logging.shutdown()
            exit_(EXIT_KILL_HUNG)
            return
        sleep(poll)
