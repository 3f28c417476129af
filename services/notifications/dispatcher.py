"""Sends queued deliveries, webhooks and broadcast batches; runs beside the handlers.

Like the outbox relay it claims rows with SKIP LOCKED, so several instances share the work;
each batch is one transaction, so a killed instance loses only its batch in flight, which
another (or the restarted) instance then takes again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from jinja2 import UndefinedError
from nameko.extensions import DependencyProvider

from services.common.database import database_of
from services.common.db import Store, utcnow
from services.notifications import broadcasts, contacts, deliveries, webhooks
from services.notifications.channels.base import Failed
from services.notifications.channels.webhook import WebhookChannel
from services.notifications.deliveries import Person
from services.notifications.models import Broadcast, Contact, WebhookSubscription
from services.notifications.settings import (
    ChannelSet,
    RetryPolicy,
    Settings,
    WebhookPolicy,
    build_channels,
    channel_names,
)

log = logging.getLogger(__name__)


class Dispatch:
    """One pass over each kind of work; :meth:`run_once` returns how much it did."""

    def __init__(
        self,
        store: Store,
        names: list[str],
        channels: ChannelSet,
        retry: RetryPolicy = RetryPolicy(),
        webhook_policy: WebhookPolicy = WebhookPolicy(),
        batch: int = 100,
    ) -> None:
        self.store = store
        self.names = names
        self.channels = channels
        self.retry = retry
        self.webhook_policy = webhook_policy
        self.webhook = WebhookChannel(timeout=webhook_policy.timeout_seconds, targets=webhook_policy.targets)
        self.batch = batch

    def run_once(self) -> int:
        return self.send_deliveries() + self.send_webhooks() + self.advance_broadcasts()

    def send_deliveries(self) -> int:
        with self.store.transaction(notify=False) as session:
            now = utcnow()
            rows = deliveries.due(session, now, self.batch)
            people: dict[str, dict[str, Contact]] = {}
            for tenant in {row.tenant for row in rows}:
                people[tenant] = contacts.by_phones(
                    session, tenant, [r.recipient_phone for r in rows if r.tenant == tenant]
                )
            done = 0
            for delivery in rows:
                if delivery.channel == "inapp":
                    deliveries.deliver_inapp(session, delivery, delivery.outbound or delivery.body, now)
                    done += 1
                    continue
                sender = self.channels.senders.get(delivery.channel)
                if sender is None:
                    deliveries.record_result(delivery, Failed(f"channel {delivery.channel} is not configured"), now)
                    done += 1
                    continue
                bucket = self.channels.buckets.get(delivery.channel)
                if bucket is not None and not bucket.try_acquire():
                    deliveries.postpone(delivery, now, bucket.wait_time())
                    continue
                spec = self.channels.templates.get(delivery.channel, {}).get(delivery.kind)
                contact = people[delivery.tenant].get(delivery.recipient_phone)
                result = sender.send(deliveries.message_for(delivery, contact, spec))
                deliveries.record_result(delivery, result, now, self.retry)
                done += 1
            return done

    def send_webhooks(self) -> int:
        with self.store.transaction(notify=False) as session:
            now = utcnow()
            rows = webhooks.due(session, now, self.batch)
            for delivery in rows:
                subscription = session.get(WebhookSubscription, delivery.subscription_id)
                if subscription is None or subscription.status != "active":
                    delivery.status, delivery.last_error = "failed", "endpoint disabled"
                    continue
                attempt = self.webhook.attempt(
                    subscription.url,
                    webhooks.signing_secrets(subscription, now),
                    delivery.event_id,
                    delivery.event_type,
                    delivery.payload,
                    delivery.occurred_at,
                )
                webhooks.record(
                    delivery, subscription, attempt.result, utcnow(), self.retry, self.webhook_policy, attempt.status
                )
            return len(rows)

    def advance_broadcasts(self) -> int:
        with self.store.transaction(notify=False) as session:
            now = utcnow()
            recipients = broadcasts.claim(session, self.batch)
            known = {bid: session.get(Broadcast, bid) for bid in {r.broadcast_id for r in recipients}}
            senders, people = {}, {}
            for tenant in {b.tenant for b in known.values()}:
                senders[tenant] = deliveries.sender_for(session, tenant)
                phones = [r.phone for r in recipients if known[r.broadcast_id].tenant == tenant]
                people[tenant] = contacts.by_phones(session, tenant, phones)
            rows, inbox, outcome = [], [], {"sent": [], "failed": []}
            for recipient in recipients:
                broadcast = known[recipient.broadcast_id]
                contact = people[broadcast.tenant].get(recipient.phone)
                try:
                    planned, message = deliveries.plan_rows(
                        tenant=broadcast.tenant,
                        trigger_id=broadcast.id,
                        kind=broadcast.kind,
                        template=broadcast.template,
                        person=Person.of(contact, recipient.phone, recipient.name, recipient.role),
                        channels=self.channels.for_kind(self.names, broadcast.kind),
                        variables=broadcast.variables,
                        sender=senders[broadcast.tenant],
                        critical=broadcast.critical,
                        now=now,
                    )
                except UndefinedError as exc:
                    outcome["failed"].append((recipient, f"template: {exc}"))
                    continue
                rows += planned
                inbox += message
                outcome["sent"].append((recipient, None))
            deliveries.insert_rows(session, rows, inbox)
            for status, done in outcome.items():
                broadcasts.mark(session, status, done)
            finished = broadcasts.finish(session, now)
            if recipients:
                log.info("broadcasts: %d recipients done, %d failed", len(outcome["sent"]), len(outcome["failed"]))
            return len(recipients) + finished


class Dispatcher(DependencyProvider):
    """Runs :class:`Dispatch` in a managed green thread, woken by commits."""

    def setup(self) -> None:
        settings = Settings(self.container.config)
        self.channel_names = channel_names(settings)
        store = database_of(self.container).open()
        self.dispatch = Dispatch(
            store,
            self.channel_names,
            build_channels(settings),
            RetryPolicy.from_settings(settings),
            WebhookPolicy.from_settings(settings),
            batch=int(settings.number("NOTIFY_BATCH_SIZE")),
        )
        self.poll = settings.number("NOTIFY_POLL_SECONDS")
        # A pause between busy passes paces a big broadcast, leaving the database to the API meanwhile.
        self.pause = settings.number("NOTIFY_BATCH_PAUSE_SECONDS")
        self.wake = threading.Event()
        self.running = True
        store.on_commit(self.wake.set)

    def start(self) -> None:
        self._thread = self.container.spawn_managed_thread(self._loop)

    def _loop(self) -> None:
        while self.running:
            try:
                done = self.dispatch.run_once()
            except Exception:
                log.exception("notification dispatch failed; retrying")
                done = 0
            if not done:
                self.wake.wait(self.poll)
                self.wake.clear()
            elif self.pause:
                time.sleep(self.pause)

    def stop(self) -> None:
        self.running = False
        self.wake.set()
        self._thread.wait()

    def kill(self) -> None:
        self.running = False
        self.wake.set()

    def get_dependency(self, worker_ctx: Any) -> Outlets:
        return Outlets(self.channel_names, self.dispatch.channels)


class Outlets:
    """What a worker sees as ``self.channels``: which channels can carry a kind of message."""

    def __init__(self, names: list[str], channels: ChannelSet) -> None:
        self.names = names
        self.channels = channels

    def for_kind(self, kind: str) -> list[str]:
        return self.channels.for_kind(self.names, kind)
