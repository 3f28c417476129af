"""Tencent SendSms: TC3-HMAC-SHA256 signing, request shape, classification."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from services.notifications.channels.base import Failed, Recipient, RetryLater, Sent
from services.notifications.channels.tencent_sms import (
    TencentSmsChannel,
    authorization,
    canonical_request,
    tc3_signature,
)

pytestmark = pytest.mark.unit

# The worked example in Tencent Cloud's "签名方法 v3" documentation (CVM
# DescribeInstances, 2019-02-25). The documentation masks the end of the keys
# with asterisks, and its published signature is computed with those literal
# strings.
DOC_SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******"
DOC_SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3*******"
DOC_TIMESTAMP = 1551113065
DOC_BODY = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
DOC_SIGNATURE = "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"


def test_doc_payload_hash() -> None:
    assert hashlib.sha256(DOC_BODY).hexdigest() == "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"


def test_canonical_request_layout() -> None:
    assert canonical_request("cvm.tencentcloudapi.com", DOC_BODY) == (
        "POST\n/\n\n"
        "content-type:application/json; charset=utf-8\n"
        "host:cvm.tencentcloudapi.com\n\n"
        "content-type;host\n"
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )


def test_signature_matches_documented_example() -> None:
    sig = tc3_signature(DOC_SECRET_KEY, "cvm", "cvm.tencentcloudapi.com", DOC_TIMESTAMP, DOC_BODY)
    assert sig == DOC_SIGNATURE


def test_authorization_header_matches_documented_example() -> None:
    header = authorization(DOC_SECRET_ID, DOC_SECRET_KEY, "cvm", "cvm.tencentcloudapi.com", DOC_TIMESTAMP, DOC_BODY)
    assert header == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/"
        f"tc3_request, SignedHeaders=content-type;host, Signature={DOC_SIGNATURE}"
    )


def _independent_tc3(secret_key: str, host: str, ts: int, body: bytes, service: str) -> str:
    """The documented algorithm, written separately from the adapter."""
    import datetime as dt

    date = dt.datetime.fromtimestamp(ts, tz=dt.UTC).date().isoformat()
    creq = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:application/json; charset=utf-8\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    sts = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(ts),
            f"{date}/{service}/tc3_request",
            hashlib.sha256(creq.encode()).hexdigest(),
        ]
    )

    def h(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    k = h(h(h(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()


def _channel(session, clock=lambda: 1_700_000_000.0) -> TencentSmsChannel:
    return TencentSmsChannel(
        "AKIDexample",
        "secret-key",
        "1400006666",
        "连心物业",
        {"survey.issued": "1234567"},
        {"survey.issued": ["name", "survey", "code"]},
        clock=clock,
        session=session,
    )


def test_request_is_signed_and_positional(make_message, fake_session, response) -> None:
    fake_session.queue.append(
        response(
            200,
            {
                "Response": {
                    "SendStatusSet": [
                        {
                            "SerialNo": "5000:1045710669157053657849499619",
                            "PhoneNumber": "+8613800138000",
                            "Code": "Ok",
                            "Message": "send success",
                        }
                    ],
                    "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
                }
            },
        )
    )
    result = _channel(fake_session).send(make_message())
    assert result == Sent("5000:1045710669157053657849499619")

    (call,) = fake_session.calls
    assert call.method == "POST"
    assert call.url == "https://sms.tencentcloudapi.com/"
    headers = call.kwargs["headers"]
    body = call.kwargs["data"]
    assert headers["X-TC-Action"] == "SendSms"
    assert headers["X-TC-Version"] == "2021-01-11"
    assert headers["X-TC-Timestamp"] == "1700000000"
    assert headers["X-TC-Region"] == "ap-guangzhou"
    assert headers["Host"] == "sms.tencentcloudapi.com"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    expected_sig = _independent_tc3("secret-key", "sms.tencentcloudapi.com", 1_700_000_000, body, "sms")
    assert headers["Authorization"] == (
        "TC3-HMAC-SHA256 Credential=AKIDexample/2023-11-14/sms/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={expected_sig}"
    )
    sent = json.loads(body)
    assert sent == {
        "PhoneNumberSet": ["+8613800138000"],
        "SmsSdkAppId": "1400006666",
        "SignName": "连心物业",
        "TemplateId": "1234567",
        "TemplateParamSet": ["张三", "物业服务满意度", "42"],
        "SessionContext": "notif-0001",
    }


def test_credential_date_is_utc_date_of_timestamp(make_message, fake_session, response) -> None:
    # 2023-11-14T23:59:59Z is already the 15th in Beijing; the scope must use UTC.
    fake_session.queue.append(response(200, {"Response": {"SendStatusSet": [{"Code": "Ok"}]}}))
    _channel(fake_session, clock=lambda: 1_700_006_399.0).send(make_message())
    assert "/2023-11-14/sms/tc3_request" in fake_session.calls[0].kwargs["headers"]["Authorization"]


def _status(code: str) -> dict:
    return {"Response": {"SendStatusSet": [{"Code": code, "Message": "m"}], "RequestId": "r"}}


def _error(code: str) -> dict:
    return {"Response": {"Error": {"Code": code, "Message": "m"}, "RequestId": "r"}}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_status("LimitExceeded.PhoneNumberThirtySecondLimit"), RetryLater),
        (_status("LimitExceeded.PhoneNumberDailyLimit"), RetryLater),
        (_status("InvalidParameterValue.IncorrectPhoneNumber"), Failed),
        (_status("FailedOperation.PhoneNumberInBlacklist"), Failed),
        (_error("RequestLimitExceeded"), RetryLater),
        (_error("InternalError.Timeout"), RetryLater),
        (_error("AuthFailure.SignatureFailure"), Failed),
        (_error("InvalidParameterValue.TemplateParameterFormatError"), Failed),
    ],
)
def test_response_classification(make_message, fake_session, response, body, expected) -> None:
    fake_session.queue.append(response(200, body))
    result = _channel(fake_session).send(make_message())
    assert isinstance(result, expected)


def test_thirty_second_limit_suggests_wait(make_message, fake_session, response) -> None:
    fake_session.queue.append(response(200, _status("LimitExceeded.PhoneNumberThirtySecondLimit")))
    assert _channel(fake_session).send(make_message()).after_seconds == 30.0


def test_http_503_is_retry_later(make_message, fake_session, response) -> None:
    fake_session.queue.append(response(503, text="unavailable", headers={"Retry-After": "7"}))
    assert _channel(fake_session).send(make_message()) == RetryLater("tencent: HTTP 503", 7.0)


def test_missing_param_fails_before_sending(make_message, fake_session) -> None:
    result = _channel(fake_session).send(make_message(params={"name": "张三"}))
    assert isinstance(result, Failed)
    assert "survey" in result.reason
    assert fake_session.calls == []


def test_no_phone_fails(make_message, fake_session) -> None:
    assert _channel(fake_session).send(make_message(recipient=Recipient())) == Failed("no phone number")
