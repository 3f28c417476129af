"""``lianxin-service NAME``: run one service in the foreground until SIGTERM or Ctrl-C.

SIGTERM stops gracefully: consumers stop taking messages, in-flight handlers finish and
ack, then the process exits.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()  # before anything else touches sockets or threads

import argparse  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from services.common import deadline, logs, topology  # noqa: E402
from services.common.broker import bound_nameko_connections  # noqa: E402
from services.common.config import SERVICES, service_config, setting  # noqa: E402

log = logging.getLogger("lianxin.runner")


def dump_greenlets(*_: object) -> None:
    """SIGUSR1: print every green thread's stack (what is this service waiting on?)."""
    import gc
    import traceback

    import greenlet

    for obj in gc.get_objects():
        try:
            if isinstance(obj, greenlet.greenlet) and obj.gr_frame is not None:
                print(f"--- {obj!r}", file=sys.stderr)
                traceback.print_stack(obj.gr_frame, file=sys.stderr)
        except ReferenceError:
            continue
    sys.stderr.flush()


def run(name: str) -> int:
    config = service_config(name)
    bound_nameko_connections()
    logs.configure(name, str(config["LOG_LEVEL"]), setting("LOG_FORMAT"))
    topology.declare(config)
    runner = ServiceRunner(config)
    runner.add_service(topology.service_class(name))

    def shutdown(signum: int, frame: object) -> None:
        log.info("signal %s: stopping gracefully", signum)
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGUSR1, dump_greenlets)
    runner.start()
    log.info("%s started", name)
    eventlet.spawn_n(deadline.guard, lambda: runner.containers)  # a hung kill must not keep us alive
    waiter = eventlet.spawn(runner.wait)
    while True:
        try:
            waiter.wait()
            break
        except KeyboardInterrupt:
            log.info("interrupted: stopping")
            try:
                runner.stop()
            except KeyboardInterrupt:
                runner.kill()
    log.info("%s stopped", name)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lianxin-service", description="Run one Lianxin service.")
    parser.add_argument("service", choices=SERVICES)
    args = parser.parse_args(argv)
    return run(args.service)


if __name__ == "__main__":
    sys.exit(main())
