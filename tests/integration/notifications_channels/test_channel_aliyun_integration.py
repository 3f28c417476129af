"""AliyunSmsChannel against a local HTTP server that plays dysmsapi and
re-verifies every request's signature as Aliyun documents it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from datetime import UTC, datetime

import pytest
from werkzeug.wrappers import Request, Response

from services.notifications.channels.aliyun_sms import AliyunSmsChannel
from services.notifications.channels.base import Failed, Message, Recipient, RetryLater, Sent

pytestmark = pytest.mark.integration

KEYS = {"LTAI5tLianxinTest": "aliyun-secret/with+odd*chars~"}


def _pop_encode(value: str) -> str:
    # As in Aliyun's sample code: URLEncoder (form encoding) then + -> %20, * -> %2A, %7E -> ~.
    return urllib.parse.quote_plus(value, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def _expected_signature(params: dict[str, str], secret: str) -> str:
    canon = "&".join(f"{_pop_encode(k)}={_pop_encode(params[k])}" for k in sorted(params))
    sts = "GET&" + _pop_encode("/") + "&" + _pop_encode(canon)
    return base64.b64encode(hmac.new((secret + "&").encode(), sts.encode(), hashlib.sha1).digest()).decode()


class FakeDysmsapi:
    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.nonces: set[str] = set()

    def __call__(self, request: Request) -> Response:
        def reply(code: str, message: str, status: int = 200, **extra: str) -> Response:
            body = {"Code": code, "Message": message, "RequestId": "F655A8D5-B967", **extra}
            return Response(json.dumps(body), status=status, mimetype="application/json")

        if request.method != "GET" or request.path != "/":
            return reply("InvalidAction", "only GET /", 404)
        params = request.args.to_dict()
        self.requests.append(params)
        signature = params.pop("Signature", None)
        secret = KEYS.get(params.get("AccessKeyId", ""))
        if secret is None:
            return reply("InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404)
        if signature != _expected_signature(params, secret):
            return reply("SignatureDoesNotMatch", "Specified signature is not matched.", 400)
        fixed = {
            "Action": "SendSms",
            "Version": "2017-05-25",
            "Format": "JSON",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
        }
        for key, value in fixed.items():
            if params.get(key) != value:
                return reply("MissingParameter", f"{key} must be {value}", 400)
        sent_at = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs(sent_at.timestamp() - time.time()) > 900:
            return reply("InvalidTimeStamp.Expired", "timestamp expired", 400)
        if params["SignatureNonce"] in self.nonces:
            return reply("SignatureNonceUsed", "nonce used", 400)
        self.nonces.add(params["SignatureNonce"])

        phone = params["PhoneNumbers"]
        if not phone.isdigit() or phone.startswith("+"):
            return reply("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        template_param = json.loads(params["TemplateParam"])
        if not isinstance(template_param, dict) or set(template_param) != {"name", "time"}:
            return reply("isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量")
        if phone == "13900139000":
            return reply("isv.BUSINESS_LIMIT_CONTROL", "触发号码天级流控Permits:10")
        return reply("OK", "OK", BizId=f"biz-{len(self.nonces)}")


def _message(phone: str, params: dict[str, str] | None = None) -> Message:
    return Message(
        kind="visit.scheduled",
        recipient=Recipient(phone=phone, name="李四"),
        subject="上门服务提醒",
        body="李四您好，维修师傅将于明天上午9点上门。",
        params={"name": "李四", "time": "明天上午9点"} if params is None else params,
        idempotency_key="visit-9-reminder",
    )


@pytest.fixture
def aliyun(http_server):
    server = FakeDysmsapi()
    url = http_server(server) + "/"

    def channel(secret: str = KEYS["LTAI5tLianxinTest"]) -> AliyunSmsChannel:
        return AliyunSmsChannel(
            "LTAI5tLianxinTest",
            secret,
            "连心物业",
            {"visit.scheduled": "SMS_465900001"},
            endpoint=url,
            timeout=5,
        )

    return server, channel


def test_send_ok_with_verified_signature(aliyun) -> None:
    server, channel = aliyun
    result = channel().send(_message("+8613800138000"))
    assert result == Sent("biz-1")
    (params,) = server.requests
    assert params["PhoneNumbers"] == "13800138000"
    assert json.loads(params["TemplateParam"]) == {"name": "李四", "time": "明天上午9点"}
    assert params["TemplateCode"] == "SMS_465900001"
    assert params["SignName"] == "连心物业"
    assert params["OutId"] == "visit-9-reminder"


def test_each_request_has_fresh_nonce(aliyun) -> None:
    server, channel = aliyun
    ch = channel()
    assert isinstance(ch.send(_message("+8613800138000")), Sent)
    assert isinstance(ch.send(_message("+8613800138000")), Sent)
    assert len(server.nonces) == 2


def test_throttled_is_retry_later(aliyun) -> None:
    _, channel = aliyun
    result = channel().send(_message("+8613900139000"))
    assert isinstance(result, RetryLater)
    assert "isv.BUSINESS_LIMIT_CONTROL" in result.reason


def test_missing_named_param_is_failed(aliyun) -> None:
    _, channel = aliyun
    result = channel().send(_message("+8613800138000", params={"name": "李四"}))
    assert isinstance(result, Failed)
    assert "isv.TEMPLATE_MISSING_PARAMETERS" in result.reason


def test_wrong_secret_is_rejected_by_server(aliyun) -> None:
    _, channel = aliyun
    result = channel(secret="not-the-secret").send(_message("+8613800138000"))
    assert isinstance(result, Failed)
    assert "SignatureDoesNotMatch" in result.reason


def test_server_gone_is_retry_later(http_server) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    channel = AliyunSmsChannel(
        "LTAI5tLianxinTest",
        "x",
        "连心物业",
        {"visit.scheduled": "SMS_1"},
        endpoint=f"http://127.0.0.1:{port}/",
        timeout=2,
    )
    assert isinstance(channel.send(_message("+8613800138000")), RetryLater)
