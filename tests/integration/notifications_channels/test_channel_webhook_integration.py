"""WebhookChannel against a local receiver that verifies every signature."""

from __future__ import annotations

import json
import threading

import pytest
from werkzeug.wrappers import Request, Response

from services.notifications.channels.base import Failed, RetryLater, Sent
from services.notifications.channels.webhook import (
    WebhookChannel,
    WebhookVerificationError,
    generate_secret,
    verify,
)
from services.notifications.webhook_targets import Policy

pytestmark = pytest.mark.integration

# The receivers listen on loopback: the operator's allow-list lets it through (WEBHOOK_ALLOWED_HOSTS).
LOOPBACK = Policy.from_text("127.0.0.1")


class Receiver:
    """Fails the first `failures` deliveries with 500, then accepts."""

    def __init__(self, secret: str, failures: int = 0, status_after: int = 200) -> None:
        self.secret = secret
        self.failures = failures
        self.status_after = status_after
        self.attempts: list[dict] = []
        self.rejected = 0
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        body = request.get_data()
        try:
            verify(self.secret, dict(request.headers), body)
        except WebhookVerificationError:
            with self.lock:
                self.rejected += 1
            return Response("bad signature", status=401)
        with self.lock:
            self.attempts.append(
                {
                    "id": request.headers["webhook-id"],
                    "content_type": request.headers["content-type"],
                    "payload": json.loads(body),
                }
            )
            n = len(self.attempts)
        if n <= self.failures:
            return Response("boom", status=500)
        return Response(status=self.status_after)


def test_retry_until_success_keeps_the_same_id(http_server) -> None:
    secret = generate_secret()
    receiver = Receiver(secret, failures=2)
    url = http_server(receiver) + "/hooks/lianxin"
    channel = WebhookChannel(timeout=5, targets=LOOPBACK)
    payload = {"case_no": "C-2031", "status": "closed", "note": "已办结"}

    results = [channel.deliver(url, secret, "msg_2xQ0Lianxin0001", "case.closed", payload) for _ in range(3)]

    assert [type(r) for r in results] == [RetryLater, RetryLater, Sent]
    assert results[2] == Sent("msg_2xQ0Lianxin0001")
    assert receiver.rejected == 0
    assert len(receiver.attempts) == 3
    assert {a["id"] for a in receiver.attempts} == {"msg_2xQ0Lianxin0001"}
    assert all(a["content_type"] == "application/json" for a in receiver.attempts)
    assert receiver.attempts[0]["payload"]["type"] == "case.closed"
    assert receiver.attempts[0]["payload"]["data"] == payload


def test_wrong_secret_rejected_by_receiver(http_server) -> None:
    receiver = Receiver(generate_secret())
    url = http_server(receiver)
    result = WebhookChannel(timeout=5, targets=LOOPBACK).deliver(url, generate_secret(), "msg_x", "t", {})
    assert result == Failed("HTTP 401")
    assert receiver.rejected == 1


def test_gone_endpoint(http_server) -> None:
    secret = generate_secret()
    url = http_server(Receiver(secret, status_after=410))
    assert WebhookChannel(timeout=5, targets=LOOPBACK).deliver(url, secret, "msg_y", "t", {}) == Failed("HTTP 410")


def test_retry_after_is_honoured(http_server) -> None:
    def throttled(request: Request) -> Response:
        return Response("slow down", status=429, headers={"Retry-After": "42"})

    url = http_server(throttled)
    result = WebhookChannel(timeout=5, targets=LOOPBACK).deliver(url, generate_secret(), "msg_z", "t", {})
    assert result == RetryLater("HTTP 429", 42.0)
