"""Webhooks to each tenant's own systems: subscriptions, queued deliveries, and the disable rule.

Every delivery is signed per Standard Webhooks with the subscription's secret; ``webhook-id``
is the event id, the same on every retry, so a receiver de-duplicates on it. An endpoint that
keeps failing (``disable_after_failures`` attempts in a row, over at least
``disable_after_seconds``) is disabled: its queued deliveries fail, and the API shows why.

A URL must point at a public address (``webhook_targets``, checked here when saved and by the
channel before every attempt); a company has at most ``max_per_company`` subscriptions. A
rotated secret keeps signing beside the new one (Standard Webhooks' space-separated
signatures) for a grace period, so receivers switch without losing a delivery. Tenants see
only generic errors (:func:`public_error`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.common.fields import utc_text
from services.common.ids import new_id
from services.common.pages import page
from services.notifications import backoff_policy, webhook_targets
from services.notifications.channels.base import Failed, RetryLater, Sent
from services.notifications.channels.webhook import CONNECTION_FAILED, TIMED_OUT, generate_secret
from services.notifications.models import WebhookDelivery, WebhookSubscription
from services.notifications.settings import RetryPolicy, WebhookPolicy

TEST_EVENT = "webhook.test"
#: An event that takes back one a subscription received: it goes wherever that one went, asked
#: for or not, so a company's system that counted an answer hears that the answer was voided.
FOLLOW_UPS = {"survey.answer_voided": "survey.answered"}
log = logging.getLogger(__name__)


def check_url(url: str, policy: WebhookPolicy) -> None:
    """Refuse an internal or credentialed URL with one generic field error (the detail is logged)."""
    try:
        webhook_targets.check_saved(url, policy.targets)
    except webhook_targets.Refused as exc:
        log.info("webhook URL refused: %s", exc)
        raise ValidationFailed(
            "the URL is not allowed",
            {"url": ["must be http(s) to a public address, without user or password"]},
        ) from None


def subscribe(
    session: Session,
    tenant: str,
    url: str,
    event_types: list[str],
    now: datetime,
    policy: WebhookPolicy = WebhookPolicy(),
) -> WebhookSubscription:
    """A new subscription, within the company's cap, to a URL the address rule allows.

    The URL check may look the host up in DNS: it runs before the first statement, so no
    database lock waits on it. Two creations at once may both pass the count (one over the cap).
    """
    check_url(url, policy)
    count = session.scalar(select(func.count()).where(WebhookSubscription.tenant == tenant)) or 0
    if count >= policy.max_per_company:
        raise Conflict(f"a company may have at most {policy.max_per_company} webhooks; delete one first")
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


def remove(session: Session, tenant: str, subscription_id: str) -> None:
    """Delete a subscription and its deliveries (queued ones are never sent)."""
    subscription = get(session, tenant, subscription_id)
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id))
    session.delete(subscription)
    session.flush()


def rotate_secret(
    session: Session, tenant: str, subscription_id: str, now: datetime, grace: timedelta
) -> WebhookSubscription:
    """A new secret; the old one keeps signing (a second signature) for ``grace``, zero: at once."""
    subscription = get(session, tenant, subscription_id)
    if grace > timedelta(0):
        subscription.previous_secret = subscription.secret
        subscription.previous_secret_expires_at = now + grace
    else:
        subscription.previous_secret = subscription.previous_secret_expires_at = None
    subscription.secret = generate_secret()
    return subscription


def signing_secrets(subscription: WebhookSubscription, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous one in its grace."""
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and now < expires:
        return [subscription.secret, subscription.previous_secret]
    return [subscription.secret]


def deliveries_of(
    session: Session, tenant: str, subscription_id: str, limit: int, starting_after: str | None
) -> tuple[list[WebhookDelivery], bool]:
    """A subscription's deliveries, newest first (cursor pagination)."""
    subscription = get(session, tenant, subscription_id)
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    return page(session, query, WebhookDelivery.id, limit, starting_after)


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
    status: int | None = None,
) -> None:
    """Apply one attempt's result (and the receiver's HTTP status, if it answered) to the delivery and its endpoint."""
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_status = status
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


# The only error texts a tenant sees; anything else stored (rows from before issue 18 kept what a
# socket said, e.g. "BadStatusLine('AMQP…')") is shown as one of these.
_PUBLIC = re.compile(r"^(HTTP [1-5]\d\d|connection failed|timed out|address not allowed|endpoint disabled)$")
_LEGACY = (("webhook: HTTP ", None), ("timeout", TIMED_OUT), ("network error", CONNECTION_FAILED), ("gone", "HTTP 410"))


def public_error(stored: str | None) -> str | None:
    """The generic form of a delivery's error: never a banner, an exception or an address."""
    if stored is None or _PUBLIC.match(stored):
        return stored
    for prefix, shown in _LEGACY:
        if stored.startswith(prefix):
            rest = stored.removeprefix(prefix)
            if shown is None and re.fullmatch(r"[1-5]\d\d", rest[:3]):
                return f"HTTP {rest[:3]}"
            if shown is not None:
                return shown
    return "delivery failed"


def delivery_view(row: WebhookDelivery) -> dict:
    return {
        "id": row.id,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "status": row.status,
        "attempts": row.attempts,
        "response_status": row.response_status,
        "last_error": public_error(row.last_error),
        "created_at": utc_text(row.created_at),
        "last_attempt_at": utc_text(row.last_attempt_at),
        "next_attempt_at": utc_text(row.next_attempt_at) if row.status == "queued" else None,
        "sent_at": utc_text(row.sent_at),
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
        "failing_since": utc_text(subscription.failing_since),
        "disabled_at": utc_text(subscription.disabled_at),
        "created_at": utc_text(subscription.created_at),
        "previous_secret_expires_at": utc_text(subscription.previous_secret_expires_at),
        "recent_deliveries": [delivery_view(row) for row in recent],
    }
    if secret:
        shown["secret"] = subscription.secret
    return shown
