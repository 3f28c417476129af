"""Fixtures for channel unit tests: a fake clock and a scripted HTTP session,
so adapters can be exercised without any network."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from services.notifications.channels.base import Message, Recipient


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Call:
    method: str
    url: str
    kwargs: dict[str, Any]


@dataclass
class FakeSession:
    """Stands in for requests.Session: returns queued responses, records calls.

    A queued item may be a `requests.Response`, an exception to raise, or a
    callable taking the `Call` and returning either.
    """

    queue: list[Any] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    def _next(self, call: Call) -> requests.Response:
        self.calls.append(call)
        item = self.queue.pop(0)
        if callable(item) and not isinstance(item, requests.Response):
            item = item(call)
        if isinstance(item, BaseException):
            raise item
        return item

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self._next(Call("GET", url, kwargs))

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self._next(Call("POST", url, kwargs))


def make_response(
    status: int = 200,
    json_body: Any = None,
    text: str | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    import json

    response = requests.Response()
    response.status_code = status
    if json_body is not None:
        response._content = json.dumps(json_body).encode("utf-8")
    else:
        response._content = (text or "").encode("utf-8")
    response.headers = CaseInsensitiveDict(headers or {})
    return response


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_session() -> FakeSession:
    return FakeSession()


@pytest.fixture
def response() -> Callable[..., requests.Response]:
    """Factory: response(status, json_body=..., text=..., headers=...)."""
    return make_response


@pytest.fixture
def make_message() -> Callable[..., Message]:
    """Factory for a survey notice to a resident with every address set."""

    def factory(**overrides: Any) -> Message:
        recipient = overrides.pop(
            "recipient",
            Recipient(
                phone="+8613800138000",
                email="zhang.san@example.com",
                wechat_openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
                name="张三",
            ),
        )
        fields: dict[str, Any] = {
            "kind": "survey.issued",
            "recipient": recipient,
            "subject": "【连心】满意度调查邀请",
            "body": "张三您好，请参与本月物业服务满意度调查：https://lx.example/s/42",
            "params": {"name": "张三", "survey": "物业服务满意度", "code": "42"},
            "idempotency_key": "notif-0001",
        }
        fields.update(overrides)
        return Message(**fields)

    return factory
