"""Issue 18.1: a webhook never reaches an internal address, and never tells what it found there.

No test here sends a packet to a private or link-local address: refusals happen before any
connection (a fake transport and a stub resolver record that none was attempted), and the
only real connections go to loopback receivers the allow-list names, as an operator would.
"""

from __future__ import annotations

import json
import socket
import threading
from datetime import datetime

import pytest
import requests

from services.notifications import webhooks
from services.notifications.channels.base import Failed, RetryLater, Sent
from services.notifications.channels.webhook import WebhookChannel, generate_secret, verify
from services.notifications.webhook_targets import Policy, Refused, check_saved, resolve

pytestmark = pytest.mark.unit

PUBLIC = "93.184.215.14"

# Every spelling of an internal address the probe (and the brief) named, and a few more.
INTERNAL_URLS = [
    "http://127.0.0.1:5672/",  # RabbitMQ
    "http://127.0.0.1:5432/",  # PostgreSQL
    "http://127.0.0.1:6379/",  # Redis
    "http://127.0.0.1:8080/readyz",  # a service's health port
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://0/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::]/",
    "http://localhost/",
    "http://localhost./",
    "http://LOCALHOST:5672/",
    "http://api.localhost/",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[fd00:ec2::254]/",  # AWS metadata over IPv6
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://10.0.0.5/",
    "http://172.16.1.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # shared address space (carrier NAT)
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://[ff02::1]/",
    "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
    "http://[64:ff9b::a00:5]/",  # NAT64 around 10.0.0.5
    "https://192.168.1.1:8443/hooks",
]


class Resolver:
    """A stub DNS: answers from a table (or a sequence of answers), and counts the questions."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers) or [[PUBLIC]]
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


class Transport:
    """A fake HTTP transport: records what would have been sent, answers with ``status``."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.calls: list[tuple] = []

    def __call__(self, target, body, headers, timeout):
        self.calls.append((target, body, dict(headers)))
        response = requests.Response()
        response.status_code = self.status
        return response


def channel(resolver: Resolver, transport: Transport, allowed: str = "") -> WebhookChannel:
    return WebhookChannel(timeout=2, targets=Policy.from_text(allowed, resolver), transport=transport)


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_an_internal_address_in_any_spelling_is_refused_when_saved_and_when_sent(url):
    resolver = Resolver(["127.0.0.1"])
    with pytest.raises(Refused):
        check_saved(url, Policy(resolver=resolver))
    transport = Transport()
    result = channel(resolver, transport).deliver(url, generate_secret(), "msg_1", "webhook.test", {})
    assert result == Failed("address not allowed")
    assert transport.calls == []  # refused before any connection


@pytest.mark.parametrize(
    "answer",
    [["127.0.0.1"], ["10.1.2.3"], ["169.254.169.254"], ["::1"], ["::ffff:10.0.0.1"], [PUBLIC, "192.168.0.7"]],
)
def test_a_name_is_refused_when_any_address_it_resolves_to_is_internal(answer):
    resolver = Resolver(answer)
    with pytest.raises(Refused):
        check_saved("https://hooks.tenant.example/lianxin", Policy(resolver=resolver))
    transport = Transport()
    result = channel(resolver, transport).deliver("https://hooks.tenant.example/x", generate_secret(), "m", "t", {})
    assert result == Failed("address not allowed")
    assert transport.calls == []


@pytest.mark.parametrize("url", ["http://user:pw@hooks.tenant.example/", "http://user@hooks.tenant.example/"])
def test_credentials_in_the_url_are_refused_and_never_sent(url):
    with pytest.raises(Refused):
        check_saved(url, Policy(resolver=Resolver()))
    transport = Transport()
    assert channel(Resolver(), transport).deliver(url, generate_secret(), "m", "t", {}) == Failed("address not allowed")
    assert transport.calls == []


@pytest.mark.parametrize("url", ["ftp://hooks.tenant.example/", "file:///etc/passwd", "gopher://127.0.0.1:6379/"])
def test_only_http_and_https(url):
    with pytest.raises(Refused):
        check_saved(url, Policy(resolver=Resolver()))


def test_dns_rebinding_is_refused_at_send_time_and_the_checked_address_is_the_one_dialled():
    """Public when saved, internal when sent: refused. Public when sent: that very address is used."""
    resolver = Resolver([PUBLIC], ["127.0.0.1"])
    policy = Policy(resolver=resolver)
    check_saved("https://hooks.tenant.example/x", policy)  # the first answer is public
    transport = Transport()
    rebound = channel(resolver, transport).deliver("https://hooks.tenant.example/x", generate_secret(), "m", "t", {})
    assert rebound == Failed("address not allowed")
    assert transport.calls == []

    resolver = Resolver([PUBLIC], ["127.0.0.1"])  # a second answer would rebind: it is never asked for
    transport = Transport()
    sent = channel(resolver, transport).deliver("https://hooks.tenant.example/x", generate_secret(), "m", "t", {})
    assert sent == Sent("m")
    ((target, _, _),) = transport.calls
    assert (target.address, target.host, target.port) == (PUBLIC, "hooks.tenant.example", 443)
    assert resolver.asked == ["hooks.tenant.example"]  # resolved once per attempt


def test_the_allow_list_lets_exactly_the_named_hosts_through():
    policy = Policy.from_text("127.0.0.1, receiver.internal", Resolver(["10.0.0.9"]))
    check_saved("http://127.0.0.1:9000/hooks", policy)
    check_saved("http://receiver.internal/hooks", policy)
    for other in ("http://127.1:9000/", "http://localhost:9000/", "http://[::1]:9000/", "http://10.0.0.9/"):
        with pytest.raises(Refused):
            check_saved(other, policy)
    assert resolve("http://receiver.internal/hooks", policy).address == "10.0.0.9"
    assert resolve("http://127.0.0.1:9000/hooks", policy).address == "127.0.0.1"


def test_a_public_address_is_accepted():
    check_saved("https://hooks.tenant.example/lianxin", Policy(resolver=Resolver([PUBLIC, "2606:4700::1"])))
    check_saved("http://93.184.215.14:8080/hooks", Policy(resolver=Resolver()))


def banner_server(banner: bytes) -> tuple[int, threading.Thread]:
    """A loopback TCP server that answers every connection with ``banner`` (as RabbitMQ does)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with listener:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(banner)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


def test_a_tenant_sees_connection_failed_never_the_banner_it_read(caplog):
    """The probe read ``BadStatusLine('AMQP…')`` back from RabbitMQ; now the detail is only logged."""
    port, thread = banner_server(b"AMQP\x00\x00\x09\x01")
    url = f"http://127.0.0.1:{port}/"
    result = WebhookChannel(timeout=5, targets=Policy.from_text("127.0.0.1")).deliver(
        url, generate_secret(), "m", "t", {}
    )
    thread.join(5)
    assert result == RetryLater("connection failed")
    assert "AMQP" in caplog.text  # the operator can still see what happened


def test_a_silent_receiver_is_timed_out_without_detail():
    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    with listener:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        channel_ = WebhookChannel(timeout=0.3, targets=Policy.from_text("127.0.0.1"))
        assert channel_.deliver(url, generate_secret(), "m", "t", {}) == RetryLater("timed out")


def test_errors_stored_before_the_fix_are_shown_generic():
    """Rows written by the old code kept what a socket said; the API shows only generic texts."""
    stored = {
        "network error: ConnectionError: ('Connection aborted.', BadStatusLine('AMQP\\x00\\x00\\t\\x01'))": (
            "connection failed"
        ),
        "timeout: ReadTimeout: HTTPConnectionPool(host='10.0.0.5', port=5432): Read timed out.": "timed out",
        "webhook: HTTP 500": "HTTP 500",
        "webhook: HTTP 302 redirect not followed": "HTTP 302",
        "gone": "HTTP 410",
        "SSH-2.0-OpenSSH_9.2p1 Debian": "delivery failed",
        "endpoint disabled": "endpoint disabled",
        None: None,
    }
    assert {text: webhooks.public_error(text) for text in stored} == stored


def test_the_pinned_connection_goes_to_the_checked_address_keeping_the_name(http_server_at_loopback):
    """``receiver.test`` is in no DNS: the stub says 127.0.0.1, and the request must get there by it."""
    url, seen = http_server_at_loopback
    port = int(url.rsplit(":", 1)[1])
    resolver = Resolver(["127.0.0.1"])
    hook = WebhookChannel(timeout=5, targets=Policy.from_text("receiver.test", resolver))
    secret = generate_secret()
    assert hook.deliver(f"http://receiver.test:{port}/hooks", secret, "msg_pin", "t", {}) == Sent("msg_pin")
    (request,) = seen
    assert request["host"] == f"receiver.test:{port}"
    assert request["path"] == "/hooks"
    verify(secret, request["headers"], request["body"])


@pytest.fixture
def http_server_at_loopback():
    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    seen: list[dict] = []

    @Request.application
    def app(request: Request) -> Response:
        seen.append(
            {"host": request.host, "path": request.path, "headers": dict(request.headers), "body": request.get_data()}
        )
        return Response(status=204)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()


def test_the_envelope_timestamp_is_rfc3339_with_z():
    """The stored occurred_at is naive UTC; the envelope said "2026-12-01T09:30:00" with no zone (Low)."""
    transport = Transport()
    hook = channel(Resolver(), transport)
    hook.deliver("https://hooks.tenant.example/", generate_secret(), "m", "t", {}, datetime(2026, 12, 1, 9, 30))
    ((_, body, _),) = transport.calls
    assert json.loads(body)["timestamp"] == "2026-12-01T09:30:00Z"


def test_a_host_no_resolver_can_encode_is_a_connection_failure_not_a_crash():
    """A name IDNA refuses raises UnicodeError in getaddrinfo: one failed attempt, not a stuck dispatcher."""

    def idna_refuses(host: str, port: int) -> list[str]:
        raise UnicodeError("label empty or too long")

    url = "https://" + "a" * 70 + ".example.com/x"
    check_saved(url, Policy(resolver=idna_refuses))  # not resolvable yet: accepted, checked again when sent
    transport = Transport()
    hook = WebhookChannel(timeout=1, targets=Policy(resolver=idna_refuses), transport=transport)
    assert hook.deliver(url, generate_secret(), "m", "t", {}) == RetryLater("connection failed")
    assert transport.calls == []
