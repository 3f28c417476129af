"""WeChatSubscribeChannel against a local HTTP server playing api.weixin.qq.com."""

from __future__ import annotations

import json
import threading
import time

import pytest
from werkzeug.wrappers import Request, Response

from services.notifications.channels.base import Failed, Message, Recipient, RetryLater, Sent
from services.notifications.channels.wechat import WeChatSubscribeChannel

pytestmark = pytest.mark.integration

APP_ID = "wx5f2c1a7d9e3b4c60"
APP_SECRET = "lianxin-mini-program-secret"
UNSUBSCRIBED = "oUnsubscribedUser000000000000"
BUSY = "oBusyUser00000000000000000000"


class FakeWeChatApi:
    """Issues tokens with a short expires_in, counts token requests, checks sends."""

    def __init__(self, expires_in: int = 7200) -> None:
        self.expires_in = expires_in
        self.token_requests = 0
        self.valid_tokens: set[str] = set()
        self.sends: list[dict] = []
        self.lock = threading.Lock()

    def revoke_all(self) -> None:
        """Simulate another process refreshing the token (old one stops working)."""
        with self.lock:
            self.valid_tokens.clear()

    def __call__(self, request: Request) -> Response:
        def reply(body: dict) -> Response:
            return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")

        if request.path == "/cgi-bin/token" and request.method == "GET":
            args = request.args
            if args.get("grant_type") != "client_credential":
                return reply({"errcode": 40002, "errmsg": "invalid grant_type"})
            if args.get("appid") != APP_ID or args.get("secret") != APP_SECRET:
                return reply({"errcode": 40013, "errmsg": "invalid appid"})
            with self.lock:
                self.token_requests += 1
                token = f"ACCESS_TOKEN_{self.token_requests}"
                self.valid_tokens.add(token)
            return reply({"access_token": token, "expires_in": self.expires_in})

        if request.path == "/cgi-bin/message/subscribe/send" and request.method == "POST":
            token = request.args.get("access_token", "")
            with self.lock:
                valid = token in self.valid_tokens
            if not valid:
                return reply({"errcode": 40001, "errmsg": "invalid credential"})
            payload = json.loads(request.get_data())
            with self.lock:
                self.sends.append(payload)
            if payload["touser"] == UNSUBSCRIBED:
                return reply({"errcode": 43101, "errmsg": "user refuse to accept the msg"})
            if payload["touser"] == BUSY:
                return reply({"errcode": -1, "errmsg": "system error"})
            if not all(set(v) == {"value"} for v in payload["data"].values()):
                return reply({"errcode": 47003, "errmsg": "argument invalid!"})
            return reply({"errcode": 0, "errmsg": "ok", "msgid": 3125845396912046080})

        return Response("not found", status=404)


def _message(openid: str) -> Message:
    return Message(
        kind="survey.issued",
        recipient=Recipient(wechat_openid=openid, name="孙七"),
        subject="满意度调查",
        body="请为本月物业服务打分",
        params={"thing1": "物业服务满意度调查", "time2": "2024-06-30 18:00"},
        idempotency_key=f"survey-6-{openid}",
    )


class StepClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wechat(http_server):
    api = FakeWeChatApi(expires_in=7200)
    clock = StepClock()
    channel = WeChatSubscribeChannel(
        APP_ID,
        APP_SECRET,
        {"survey.issued": "TPL_9aB3xYz"},
        endpoint=http_server(api),
        page="pages/survey/detail?id=6",
        clock=clock,
        timeout=5,
    )
    return api, channel, clock


def test_token_cached_across_sends_and_refreshed_on_expiry(wechat) -> None:
    api, channel, clock = wechat
    for i in range(3):
        assert isinstance(channel.send(_message(f"oResident{i:024d}")), Sent)
    assert api.token_requests == 1
    clock.now += 7200  # past expires_in
    assert channel.send(_message("oResident" + "9" * 24)) == Sent("3125845396912046080")
    assert api.token_requests == 2
    assert api.sends[0] == {
        "touser": f"oResident{0:024d}",
        "template_id": "TPL_9aB3xYz",
        "page": "pages/survey/detail?id=6",
        "data": {"thing1": {"value": "物业服务满意度调查"}, "time2": {"value": "2024-06-30 18:00"}},
    }


def test_revoked_token_refreshed_once(wechat) -> None:
    api, channel, _ = wechat
    assert isinstance(channel.send(_message("oResident" + "1" * 24)), Sent)
    api.revoke_all()
    assert isinstance(channel.send(_message("oResident" + "2" * 24)), Sent)
    assert api.token_requests == 2
    assert len(api.sends) == 2  # the rejected attempt never reached the send logic


def test_unsubscribed_user_is_failed_and_not_retried(wechat) -> None:
    api, channel, _ = wechat
    result = channel.send(_message(UNSUBSCRIBED))
    assert isinstance(result, Failed)
    assert "43101" in result.reason
    assert len(api.sends) == 1
    assert api.token_requests == 1


def test_system_busy_is_retry_later(wechat) -> None:
    _, channel, _ = wechat
    assert isinstance(channel.send(_message(BUSY)), RetryLater)


def test_wrong_secret_is_failed(http_server) -> None:
    api = FakeWeChatApi()
    channel = WeChatSubscribeChannel(APP_ID, "wrong", {"survey.issued": "T"}, endpoint=http_server(api), timeout=5)
    result = channel.send(_message("oResident" + "3" * 24))
    assert isinstance(result, Failed)
    assert "40013" in result.reason
    assert api.sends == []
