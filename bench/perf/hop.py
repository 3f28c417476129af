"""``python -m bench.perf.hop AMQP_URI N``: N events through a bare nameko event hop; prints the rate.

The standalone dispatcher publishes one event at a time (nameko's own way: a confirm per
message); a service with one @event_handler receives them. The rate is N over the time
from the first dispatch to the last handled event.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from nameko.containers import ServiceContainer  # noqa: E402
from nameko.events import event_handler  # noqa: E402
from nameko.standalone.events import event_dispatcher  # noqa: E402

RECEIVED = {"count": 0, "last": 0.0}


class HopSink:
    name = "bench_hop_sink"

    @event_handler("bench_hop_source", "hop")
    def on_hop(self, payload: dict) -> None:
        RECEIVED["count"] += 1
        RECEIVED["last"] = time.monotonic()


def main(amqp_uri: str, events: int) -> float:
    config = {"AMQP_URI": amqp_uri, "max_workers": 10, "SERIALIZER": "json"}
    container = ServiceContainer(HopSink, config)
    container.start()
    try:
        dispatch = event_dispatcher(config)
        started = time.monotonic()
        for n in range(events):
            dispatch("bench_hop_source", "hop", {"n": n})
        deadline = time.monotonic() + 120
        while RECEIVED["count"] < events and time.monotonic() < deadline:
            eventlet.sleep(0.01)
        if RECEIVED["count"] < events:
            raise SystemExit(f"only {RECEIVED['count']} of {events} events arrived")
        return events / (RECEIVED["last"] - started)
    finally:
        container.stop()


if __name__ == "__main__":
    rate = main(sys.argv[1], int(sys.argv[2]))
    print(json.dumps({"nameko_hop_per_s": rate}))
