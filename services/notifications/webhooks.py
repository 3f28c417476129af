"""Webhooks to each tenant's own systems: subscriptions, queued deliveries, and the disable rule.

Every delivery is signed per Standard Webhooks with the subscription's secret; ``webhook-id``
is the event id, the same on every retry, so a receiver de-duplicates on it. An endpoint that
keeps failing (``disable_after_failures`` attempts in a row, over at least
``disable_after_seconds``) is disabled: its queued deliveries fail, and the API shows why.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import NotFound
from services.common.ids import new_id
from services.notifications import backoff_policy
from services.notifications.channels.base import Failed, RetryLater, Sent
from services.notifications.channels.webhook import generate_secret
from services.notifications.models import WebhookDelivery, WebhookSubscription
from services.notifications.settings import RetryPolicy, WebhookPolicy

TEST_EVENT = "webhook.test"
#: An event that takes back one a subscription received: it goes wherever that one went, asked
#: for or not, so a company's system that counted an answer hears that the answer was voided.
FOLLOW_UPS = {"survey.answer_voided": "survey.answered"}


def subscribe(session: Session, tenant: str, url: str, event_types: list[str], now: datetime) -> WebhookSubscription:
    subscription = WebhookSubscription(
        id=new_id(),
        tenant=tenant,
        url=url,
        event_types=sorted(set(event_types)),
        secret=generate_secret(),
        status="active",
        consecutive_failures=0,
        created_at=now,
    )
    session.add(subscription)
    session.flush()
    return subscription


def get(session: Session, tenant: str, subscription_id: str) -> WebhookSubscription:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None or subscription.tenant != tenant:
        raise NotFound(f"webhook {subscription_id} not found")
    return subscription


def of_tenant(session: Session, tenant: str) -> list[WebhookSubscription]:
    return list(
        session.scalars(
            select(WebhookSubscription).where(WebhookSubscription.tenant == tenant).order_by(WebhookSubscription.id)
        )
    )


def queue_event(session: Session, event: Mapping, now: datetime) -> int:
    """One delivery per active subscription of the event's tenant that asked for its type (or the one it follows up)."""
    subscriptions = session.scalars(
        select(WebhookSubscription).where(
            WebhookSubscription.tenant == event["tenant"], WebhookSubscription.status == "active"
        )
    )
    count = 0
    for subscription in subscriptions:
        if event["type"] in subscription.event_types or FOLLOW_UPS.get(event["type"]) in subscription.event_types:
            queue(session, subscription, event["id"], event["type"], event["data"], now)
            count += 1
    return count


def queue(
    session: Session, subscription: WebhookSubscription, event_id: str, event_type: str, data: Mapping, now: datetime
) -> WebhookDelivery:
    delivery = WebhookDelivery(
        id=new_id(),
        tenant=subscription.tenant,
        subscription_id=subscription.id,
        event_id=event_id,
        event_type=event_type,
        payload=dict(data),
        occurred_at=now,
        status="queued",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


def send_test(session: Session, tenant: str, subscription_id: str, now: datetime) -> WebhookDelivery:
    """The "send test event" action: a ``webhook.test`` event, delivered like any other."""
    subscription = get(session, tenant, subscription_id)
    event_id = new_id()
    return queue(session, subscription, event_id, TEST_EVENT, {"message": "连心 webhook test", "id": event_id}, now)


def enable(session: Session, tenant: str, subscription_id: str) -> WebhookSubscription:
    subscription = get(session, tenant, subscription_id)
    subscription.status = "active"
    subscription.consecutive_failures = 0
    subscription.failing_since = None
    subscription.disabled_at = None
    return subscription


def due(session: Session, now: datetime, limit: int) -> list[WebhookDelivery]:
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.status == "queued", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def record(
    delivery: WebhookDelivery,
    subscription: WebhookSubscription,
    result: Sent | RetryLater | Failed,
    now: datetime,
    retry: RetryPolicy,
    policy: WebhookPolicy,
) -> None:
    """Apply one attempt's result to the delivery and to its endpoint's health."""
    delivery.attempts += 1
    if isinstance(result, Sent):
        delivery.status, delivery.sent_at, delivery.last_error = "sent", now, None
        subscription.consecutive_failures = 0
        subscription.failing_since = None
        return
    delivery.last_error = result.reason
    subscription.consecutive_failures += 1
    subscription.failing_since = subscription.failing_since or now
    if should_disable(subscription, now, policy):
        subscription.status = "disabled"
        subscription.disabled_at = now
    if isinstance(result, RetryLater) and delivery.attempts < retry.max_attempts and subscription.status == "active":
        delivery.next_attempt_at = now + backoff_policy.wait(delivery.attempts, result.after_seconds, retry)
    else:
        delivery.status = "failed"


def should_disable(subscription: WebhookSubscription, now: datetime, policy: WebhookPolicy) -> bool:
    """Sustained failure: enough attempts in a row, failing for long enough."""
    return (
        subscription.consecutive_failures >= policy.disable_after_failures
        and subscription.failing_since is not None
        and now - subscription.failing_since >= timedelta(seconds=policy.disable_after_seconds)
    )


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def delivery_view(row: WebhookDelivery) -> dict:
    return {
        "id": row.id,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "created_at": iso(row.created_at),
        "sent_at": iso(row.sent_at),
    }


def view(session: Session, subscription: WebhookSubscription, secret: bool = False) -> dict:
    recent = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(20)
    )
    shown = {
        "id": subscription.id,
        "url": subscription.url,
        "event_types": subscription.event_types,
        "status": subscription.status,
        "consecutive_failures": subscription.consecutive_failures,
        "failing_since": iso(subscription.failing_since),
        "disabled_at": iso(subscription.disabled_at),
        "created_at": iso(subscription.created_at),
        "recent_deliveries": [delivery_view(row) for row in recent],
    }
    if secret:
        shown["secret"] = subscription.secret
    return shown
