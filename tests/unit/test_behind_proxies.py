"""The client address the gateway sees: forwarded addresses count only from trusted proxies."""

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from services.gateway.http import behind_proxies

pytestmark = pytest.mark.unit


@Request.application
def echo(request: Request) -> Response:
    return Response(f"{request.remote_addr} {request.scheme}")


def seen(hops: int, headers: dict) -> str:
    client = Client(behind_proxies(echo, hops))
    return client.get("/", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.9"}).get_data(as_text=True)


def test_without_proxies_a_forwarded_address_is_ignored():
    assert seen(0, {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}) == "10.0.0.9 http"


def test_behind_one_proxy_the_address_it_appended_counts_and_a_spoofed_one_does_not():
    assert seen(1, {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}) == "203.0.113.7 https"
    assert seen(1, {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}) == "203.0.113.7 http"


def test_behind_two_proxies_the_second_from_the_right_counts():
    assert seen(2, {"X-Forwarded-For": "198.51.100.1, 203.0.113.7, 10.0.0.5"}) == "203.0.113.7 http"


def test_behind_a_proxy_a_request_without_the_header_keeps_the_socket_address():
    assert seen(1, {}) == "10.0.0.9 http"
