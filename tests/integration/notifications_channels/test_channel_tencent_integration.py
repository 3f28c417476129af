"""TencentSmsChannel against a local HTTP server that plays sms.tencentcloudapi.com
and re-verifies the TC3-HMAC-SHA256 Authorization from the received headers and body."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import UTC, datetime

import pytest
from werkzeug.wrappers import Request, Response

from services.notifications.channels.base import Failed, Message, Recipient, RetryLater, Sent
from services.notifications.channels.tencent_sms import TencentSmsChannel

pytestmark = pytest.mark.integration

SECRETS = {"AKIDLianxinTest": "tencent-secret-key"}
AUTH_RE = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/]+)"
    r"/tc3_request, SignedHeaders=(?P<signed>[^,]+), Signature=(?P<sig>[0-9a-f]{64})$"
)


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _verify_tc3(request: Request, body: bytes) -> str | None:
    """Return an error code, or None when the signature is right (per Tencent's docs)."""
    match = AUTH_RE.match(request.headers.get("Authorization", ""))
    if not match:
        return "AuthFailure.InvalidAuthorization"
    secret = SECRETS.get(match["id"])
    if secret is None:
        return "AuthFailure.SecretIdNotFound"
    timestamp = int(request.headers["X-TC-Timestamp"])
    if abs(timestamp - time.time()) > 300:
        return "AuthFailure.SignatureExpire"
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    if match["date"] != date or match["service"] != "sms":
        return "AuthFailure.InvalidAuthorization"
    signed = match["signed"].split(";")
    canonical_headers = "".join(f"{name}:{request.headers.get(name, '').strip().lower()}\n" for name in signed)
    canonical = "\n".join(
        [
            request.method,
            request.path,
            request.query_string.decode(),
            canonical_headers,
            match["signed"],
            _sha256_hex(body),
        ]
    )
    string_to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            f"{date}/sms/tc3_request",
            _sha256_hex(canonical.encode()),
        ]
    )
    key = ("TC3" + secret).encode()
    for part in (date, "sms", "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match["sig"]):
        return "AuthFailure.SignatureFailure"
    return None


class FakeTencentSms:
    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.headers: list[dict[str, str]] = []

    def __call__(self, request: Request) -> Response:
        def reply(inner: dict) -> Response:
            inner = {**inner, "RequestId": "0f2a9b7e-req"}
            return Response(json.dumps({"Response": inner}), mimetype="application/json")

        def error(code: str) -> Response:
            return reply({"Error": {"Code": code, "Message": code}})

        body = request.get_data()
        self.headers.append(dict(request.headers))
        failure = _verify_tc3(request, body)
        if failure:
            return error(failure)
        if request.headers.get("X-TC-Action") != "SendSms":
            return error("InvalidAction")
        if request.headers.get("X-TC-Version") != "2021-01-11":
            return error("NoSuchVersion")
        if request.headers.get("X-TC-Region") != "ap-guangzhou":
            return error("UnsupportedRegion")
        data = json.loads(body)
        self.bodies.append(data)
        params = data["TemplateParamSet"]
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            return error("InvalidParameterValue.TemplateParameterFormatError")
        phone = data["PhoneNumberSet"][0]
        if phone == "+8613900139000":
            code = "LimitExceeded.PhoneNumberThirtySecondLimit"
        elif phone == "+8613700137000":
            code = "FailedOperation.PhoneNumberInBlacklist"
        else:
            code = "Ok"
        return reply(
            {
                "SendStatusSet": [
                    {
                        "SerialNo": "5000:104571066915705365784949619",
                        "PhoneNumber": phone,
                        "Fee": 1,
                        "SessionContext": data.get("SessionContext", ""),
                        "Code": code,
                        "Message": "send success" if code == "Ok" else code,
                        "IsoCode": "CN",
                    }
                ]
            }
        )


def _message(phone: str) -> Message:
    return Message(
        kind="case.closed",
        recipient=Recipient(phone=phone),
        subject="工单已办结",
        body="您反映的楼道灯不亮问题（工单 C-2031）已处理完毕。",
        params={"case_no": "C-2031", "title": "楼道灯不亮", "name": "赵六"},
        idempotency_key="case-2031-closed",
    )


@pytest.fixture
def tencent(http_server):
    server = FakeTencentSms()
    url = http_server(server)

    def channel(secret_key: str = SECRETS["AKIDLianxinTest"]) -> TencentSmsChannel:
        return TencentSmsChannel(
            "AKIDLianxinTest",
            secret_key,
            "1400787878",
            "连心物业",
            {"case.closed": "1850001"},
            {"case.closed": ["name", "case_no", "title"]},
            endpoint=url,
            timeout=5,
        )

    return server, channel


def test_send_ok_with_verified_signature(tencent) -> None:
    server, channel = tencent
    result = channel().send(_message("+8613800138000"))
    assert result == Sent("5000:104571066915705365784949619")
    (body,) = server.bodies
    assert body["TemplateParamSet"] == ["赵六", "C-2031", "楼道灯不亮"]
    assert body["PhoneNumberSet"] == ["+8613800138000"]
    assert body["SmsSdkAppId"] == "1400787878"
    assert body["SignName"] == "连心物业"
    assert body["TemplateId"] == "1850001"
    assert body["SessionContext"] == "case-2031-closed"
    assert server.headers[0]["Host"].startswith("127.0.0.1:")


def test_rate_limited_is_retry_later(tencent) -> None:
    _, channel = tencent
    result = channel().send(_message("+8613900139000"))
    assert isinstance(result, RetryLater)
    assert result.after_seconds == 30.0


def test_blacklisted_is_failed(tencent) -> None:
    _, channel = tencent
    result = channel().send(_message("+8613700137000"))
    assert isinstance(result, Failed)
    assert "PhoneNumberInBlacklist" in result.reason


def test_wrong_key_is_rejected_by_server(tencent) -> None:
    server, channel = tencent
    result = channel(secret_key="wrong").send(_message("+8613800138000"))
    assert isinstance(result, Failed)
    assert "AuthFailure.SignatureFailure" in result.reason
    assert server.bodies == []
