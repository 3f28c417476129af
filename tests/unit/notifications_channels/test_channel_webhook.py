"""Standard Webhooks signing/verification and WebhookChannel status mapping."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from services.notifications.channels.base import Failed, RetryLater, Sent
from services.notifications.channels.webhook import (
    WebhookChannel,
    WebhookVerificationError,
    generate_secret,
    sign,
    verify,
)
from services.notifications.webhook_targets import Policy

pytestmark = pytest.mark.unit

# Official test vector from the Standard Webhooks specification/libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _headers(signature: str = EXPECTED, ts: int = TIMESTAMP) -> dict[str, str]:
    return {"webhook-id": MSG_ID, "webhook-timestamp": str(ts), "webhook-signature": signature}


def test_sign_official_vector() -> None:
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY) == EXPECTED


def test_verify_official_vector() -> None:
    verify(SECRET, _headers(), BODY, now=TIMESTAMP + 10)


def test_verify_header_names_case_insensitive() -> None:
    headers = {k.title(): v for k, v in _headers().items()}
    verify(SECRET, headers, BODY, now=TIMESTAMP)


def test_verify_accepts_any_of_several_signatures() -> None:
    other = sign(generate_secret(), MSG_ID, TIMESTAMP, BODY)
    verify(SECRET, _headers(f"v1a,abc {other} {EXPECTED}"), BODY, now=TIMESTAMP)


def test_tampered_body_rejected() -> None:
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, _headers(), b'{"test": 2432232315}', now=TIMESTAMP)


def test_wrong_secret_rejected() -> None:
    with pytest.raises(WebhookVerificationError):
        verify(generate_secret(), _headers(), BODY, now=TIMESTAMP)


def test_old_timestamp_rejected() -> None:
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(SECRET, _headers(), BODY, now=TIMESTAMP + 301)


def test_future_timestamp_rejected() -> None:
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(SECRET, _headers(), BODY, now=TIMESTAMP - 301)


def test_timestamp_within_tolerance_accepted() -> None:
    verify(SECRET, _headers(), BODY, now=TIMESTAMP + 300)


def test_timestamp_is_part_of_signature() -> None:
    with pytest.raises(WebhookVerificationError, match="signature"):
        verify(SECRET, _headers(ts=TIMESTAMP + 1), BODY, now=TIMESTAMP)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_rejected(missing: str) -> None:
    headers = _headers()
    del headers[missing]
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, headers, BODY, now=TIMESTAMP)


def test_non_numeric_timestamp_rejected() -> None:
    headers = _headers()
    headers["webhook-timestamp"] = "yesterday"
    with pytest.raises(WebhookVerificationError):
        verify(SECRET, headers, BODY, now=TIMESTAMP)


def test_generate_secret_shape() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 24
    assert generate_secret() != secret


def _channel(session) -> WebhookChannel:
    """A channel whose every host resolves to a public address (a stub: no DNS in unit tests)."""
    targets = Policy(resolver=lambda host, port: ["93.184.215.14"])
    return WebhookChannel(clock=lambda: 1_700_000_000.0, session=session, targets=targets)


def test_deliver_signs_and_posts_json(fake_session, response) -> None:
    fake_session.queue.append(response(204))
    result = _channel(fake_session).deliver(
        "https://hooks.example/lx",
        SECRET,
        "msg_1",
        "case.closed",
        {"case": "C-1", "说明": "已办结"},
    )
    assert result == Sent("msg_1")
    (call,) = fake_session.calls
    headers, body = call.kwargs["headers"], call.kwargs["data"]
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1700000000"
    verify(SECRET, headers, body, now=1_700_000_000)
    assert json.loads(body) == {
        "type": "case.closed",
        "timestamp": "2023-11-14T22:13:20Z",
        "data": {"case": "C-1", "说明": "已办结"},
    }


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (200, {}, Sent("m")),
        (500, {}, RetryLater("HTTP 500", None)),
        (503, {"Retry-After": "120"}, RetryLater("HTTP 503", 120.0)),
        (429, {"Retry-After": "5"}, RetryLater("HTTP 429", 5.0)),
        (410, {}, Failed("HTTP 410")),
        (400, {}, Failed("HTTP 400")),
        (404, {}, Failed("HTTP 404")),
        (302, {"Location": "http://127.0.0.1/"}, Failed("HTTP 302")),
    ],
)
def test_deliver_status_mapping(fake_session, response, status, headers, expected) -> None:
    fake_session.queue.append(response(status, headers=headers))
    assert _channel(fake_session).deliver("https://h.example", SECRET, "m", "t", {}) == expected


def test_retry_after_http_date(fake_session, response) -> None:
    fake_session.queue.append(response(503, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}))
    result = _channel(fake_session).deliver("https://h.example", SECRET, "m", "t", {})
    assert isinstance(result, RetryLater)
    assert result.after_seconds is not None and result.after_seconds > 0


def test_deliver_network_error_is_retry_later(fake_session) -> None:
    fake_session.queue.append(requests.ConnectionError("refused"))
    result = _channel(fake_session).deliver("https://h.example", SECRET, "m", "t", {})
    assert isinstance(result, RetryLater)
