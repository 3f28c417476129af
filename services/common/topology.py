"""The broker topology, declared up front so no event is published into the void.

Exchanges: ``<service>.events`` (topic, one per service, as nameko names them). Queues: one
per subscribed handler, named as nameko names them. Retries: one fanout exchange and queue
per delay; a message waits there for its TTL, then is dead-lettered through the default
exchange back to the queue it came from (its routing key is that queue's name).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kombu import Exchange, Queue
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

from services.common.broker import connect
from services.common.config import SERVICES, configured, retry_delays

SERVICE_CLASSES = {
    "requests": "services.requests.service:RequestsService",
    "volunteers": "services.volunteers.service:VolunteersService",
    "notifications": "services.notifications.service:NotificationsService",
    "surveys": "services.surveys.service:SurveysService",
    "gateway": "services.gateway.service:GatewayService",
}


@dataclass(frozen=True)
class Subscription:
    source_service: str
    event_type: str
    service: str
    method: str

    @property
    def queue_name(self) -> str:
        return f"evt-{self.source_service}-{self.event_type}--{self.service}.{self.method}"


def service_class(name: str) -> type:
    module, _, attr = SERVICE_CLASSES[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def subscriptions_of(cls: type) -> list[Subscription]:
    """Every event handler a service class declares (read from its nameko entrypoints)."""
    found = []
    for attr in dir(cls):
        for entrypoint in getattr(getattr(cls, attr), ENTRYPOINT_EXTENSIONS_ATTR, ()):
            source = getattr(entrypoint, "source_service", None)
            if source is not None:
                found.append(Subscription(source, entrypoint.event_type, cls.name, attr))
    return sorted(found, key=lambda s: s.queue_name)


def all_subscriptions() -> list[Subscription]:
    return [sub for name in SERVICES for sub in subscriptions_of(service_class(name))]


def event_exchange(service: str) -> Exchange:
    return Exchange(f"{service}.events", type="topic", durable=True, delivery_mode=2)


def queue_arguments(config: Mapping[str, object]) -> dict:
    return {"x-queue-type": "quorum"} if config.get("QUEUE_TYPE") == "quorum" else {}


def event_queue(sub: Subscription, config: Mapping[str, object]) -> Queue:
    return Queue(
        sub.queue_name,
        exchange=event_exchange(sub.source_service),
        routing_key=sub.event_type,
        durable=True,
        queue_arguments=queue_arguments(config) or None,
    )


def delay_name(seconds: float) -> str:
    return f"lianxin.retry.{int(round(seconds * 1000))}ms"


def delay_queue(seconds: float, config: Mapping[str, object]) -> Queue:
    name = delay_name(seconds)
    return Queue(
        name,
        exchange=Exchange(name, type="fanout", durable=True),
        durable=True,
        queue_arguments={
            "x-message-ttl": int(round(seconds * 1000)),
            "x-dead-letter-exchange": "",
            **queue_arguments(config),
        },
    )


def declare(config: Mapping[str, object], subscriptions: Iterable[Subscription] | None = None) -> int:
    """Declare everything (idempotent). Returns the number of event queues declared."""
    subs = list(all_subscriptions() if subscriptions is None else subscriptions)
    conn = connect(str(config["AMQP_URI"]))
    try:
        channel = conn.channel()
        for service in SERVICES:
            event_exchange(service)(channel).declare()
        for seconds in retry_delays(configured(config, "RETRY_DELAYS")):
            delay_queue(seconds, config)(channel).declare()
        for sub in subs:
            event_queue(sub, config)(channel).declare()
        channel.close()
    finally:
        conn.release()
    return len(subs)
