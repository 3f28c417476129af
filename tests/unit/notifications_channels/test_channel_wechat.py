"""WeChat subscribe messages: token caching on a fake clock and errcode mapping."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from services.notifications.channels.base import Failed, Recipient, RetryLater, Sent
from services.notifications.channels.wechat import WeChatSubscribeChannel

pytestmark = pytest.mark.unit


class FakeWeChat:
    """Scripted api.weixin.qq.com: hands out numbered tokens, records sends."""

    def __init__(self, expires_in: int = 7200) -> None:
        self.expires_in = expires_in
        self.token_requests = 0
        self.sends: list[tuple[str, dict]] = []
        self.send_replies: list[dict] = []
        self.lock = threading.Lock()

    def _resp(self, body: dict) -> requests.Response:
        import json

        r = requests.Response()
        r.status_code = 200
        r._content = json.dumps(body).encode()
        return r

    def get(self, url: str, **kwargs) -> requests.Response:
        assert url.endswith("/cgi-bin/token")
        assert kwargs["params"] == {
            "grant_type": "client_credential",
            "appid": "wx-app",
            "secret": "wx-secret",
        }
        with self.lock:
            self.token_requests += 1
            n = self.token_requests
        time.sleep(0.01)  # widen the race window for the threading test
        return self._resp({"access_token": f"TOKEN{n}", "expires_in": self.expires_in})

    def post(self, url: str, **kwargs) -> requests.Response:
        assert url.endswith("/cgi-bin/message/subscribe/send")
        with self.lock:
            self.sends.append((kwargs["params"]["access_token"], kwargs["json"]))
            reply = self.send_replies.pop(0) if self.send_replies else None
        return self._resp(reply or {"errcode": 0, "errmsg": "ok", "msgid": 294402298110051942})


@pytest.fixture
def wechat() -> FakeWeChat:
    return FakeWeChat()


def _channel(fake: FakeWeChat, clock, page: str | None = "pages/survey/index") -> WeChatSubscribeChannel:
    return WeChatSubscribeChannel(
        "wx-app",
        "wx-secret",
        {"survey.issued": "TPL-SURVEY"},
        page=page,
        clock=clock,
        session=fake,
    )


def test_payload_maps_params_to_data(make_message, wechat, fake_clock) -> None:
    result = _channel(wechat, fake_clock).send(make_message())
    assert result == Sent("294402298110051942")
    token, payload = wechat.sends[0]
    assert token == "TOKEN1"
    assert payload == {
        "touser": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "template_id": "TPL-SURVEY",
        "page": "pages/survey/index",
        "data": {
            "name": {"value": "张三"},
            "survey": {"value": "物业服务满意度"},
            "code": {"value": "42"},
        },
    }


def test_page_omitted_when_not_configured(make_message, wechat, fake_clock) -> None:
    _channel(wechat, fake_clock, page=None).send(make_message())
    assert "page" not in wechat.sends[0][1]


def test_token_cached_until_expiry_minus_margin(make_message, wechat, fake_clock) -> None:
    channel = _channel(wechat, fake_clock)
    for _ in range(3):
        channel.send(make_message())
    assert wechat.token_requests == 1
    fake_clock.advance(7200 - 300 - 1)  # still inside the safety margin window
    channel.send(make_message())
    assert wechat.token_requests == 1
    fake_clock.advance(1)  # expires_in minus margin reached: refresh
    channel.send(make_message())
    assert wechat.token_requests == 2
    assert [t for t, _ in wechat.sends] == ["TOKEN1"] * 4 + ["TOKEN2"]


@pytest.mark.parametrize("errcode", [40001, 42001])
def test_invalid_token_refreshes_once(make_message, wechat, fake_clock, errcode) -> None:
    wechat.send_replies = [{"errcode": errcode, "errmsg": "invalid credential"}]
    result = _channel(wechat, fake_clock).send(make_message())
    assert isinstance(result, Sent)
    assert wechat.token_requests == 2
    assert [t for t, _ in wechat.sends] == ["TOKEN1", "TOKEN2"]


def test_token_rejected_twice_is_retry_later(make_message, wechat, fake_clock) -> None:
    wechat.send_replies = [{"errcode": 40001, "errmsg": "x"}, {"errcode": 42001, "errmsg": "y"}]
    result = _channel(wechat, fake_clock).send(make_message())
    assert isinstance(result, RetryLater)
    assert wechat.token_requests == 2
    assert len(wechat.sends) == 2


def test_concurrent_sends_fetch_one_token(make_message, wechat, fake_clock) -> None:
    channel = _channel(wechat, fake_clock)
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(channel.send(make_message()))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(results) == 8
    assert wechat.token_requests == 1


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ({"errcode": 43101, "errmsg": "user refuse to accept the msg"}, Failed),
        ({"errcode": 45009, "errmsg": "reach max api daily quota limit"}, RetryLater),
        ({"errcode": -1, "errmsg": "system error"}, RetryLater),
        ({"errcode": 47003, "errmsg": "argument invalid! data.thing1.value"}, Failed),
        ({"errcode": 40003, "errmsg": "invalid openid"}, Failed),
    ],
)
def test_errcode_mapping(make_message, wechat, fake_clock, reply, expected) -> None:
    wechat.send_replies = [reply]
    result = _channel(wechat, fake_clock).send(make_message())
    assert isinstance(result, expected)
    assert len(wechat.sends) == 1  # none of these is retried inside the channel


def test_not_subscribed_is_permanent(make_message, wechat, fake_clock) -> None:
    wechat.send_replies = [{"errcode": 43101, "errmsg": "user refuse to accept the msg"}]
    result = _channel(wechat, fake_clock).send(make_message())
    assert isinstance(result, Failed)
    assert "43101" in result.reason


def test_no_openid_fails_without_token(make_message, wechat, fake_clock) -> None:
    result = _channel(wechat, fake_clock).send(make_message(recipient=Recipient(phone="+8613800138000")))
    assert result == Failed("no wechat openid")
    assert wechat.token_requests == 0


def test_token_endpoint_error_is_reported(make_message, fake_session, response, fake_clock) -> None:
    fake_session.queue.append(response(200, {"errcode": 40013, "errmsg": "invalid appid"}))
    channel = WeChatSubscribeChannel("bad", "s", {"survey.issued": "T"}, clock=fake_clock, session=fake_session)
    result = channel.send(make_message())
    assert isinstance(result, Failed)
    assert "40013" in result.reason


def test_token_endpoint_unreachable_is_retry_later(make_message, fake_session, fake_clock) -> None:
    fake_session.queue.append(requests.ConnectionError("refused"))
    channel = WeChatSubscribeChannel("a", "s", {"survey.issued": "T"}, clock=fake_clock, session=fake_session)
    assert isinstance(channel.send(make_message()), RetryLater)
