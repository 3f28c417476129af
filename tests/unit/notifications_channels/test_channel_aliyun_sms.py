"""Aliyun SendSms: signature, encoding and response classification."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import requests

from services.notifications.channels.aliyun_sms import (
    AliyunSmsChannel,
    aliyun_phone,
    canonical_query,
    percent_encode,
    sign,
    string_to_sign,
)
from services.notifications.channels.base import Failed, Recipient, RetryLater, Sent

pytestmark = pytest.mark.unit

# The worked example from Aliyun's SMS "签名机制" documentation (document 101343).
DOC_PARAMS = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
DOC_STRING_TO_SIGN = (
    "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123"
    "%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D"
    "%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1"
    "%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8"
    "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466"
    "%26SignatureVersion%3D1.0%26TemplateCode%3DSMS_71390007%26TemplateParam%3D"
    "%257B%2522customer%2522%253A%2522test%2522%257D"
    "%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
)
DOC_SIGNATURE = "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_string_to_sign_matches_documented_example() -> None:
    assert string_to_sign(DOC_PARAMS) == DOC_STRING_TO_SIGN


def test_signature_matches_documented_example() -> None:
    assert sign(DOC_PARAMS, "testSecret") == DOC_SIGNATURE
    assert percent_encode(DOC_SIGNATURE) == "zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D"


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("a b", "a%20b"),
        ("a*b", "a%2Ab"),
        ("a~b", "a~b"),
        ("a+b", "a%2Bb"),
        ("a/b:c", "a%2Fb%3Ac"),
        ("AZaz09-_.", "AZaz09-_."),
        ("连心", "%E8%BF%9E%E5%BF%83"),
    ],
)
def test_percent_encoding_special_cases(raw: str, encoded: str) -> None:
    assert percent_encode(raw) == encoded


def test_canonical_query_sorts_and_encodes() -> None:
    assert canonical_query({"b": "x y", "a": "1*2", "c": "~"}) == "a=1%2A2&b=x%20y&c=~"


def test_phone_number_formatting() -> None:
    assert aliyun_phone("+8613800138000") == "13800138000"
    assert aliyun_phone("+85261234567") == "85261234567"


def _independent_signature(query: dict[str, str], secret: str) -> str:
    """The documented algorithm, written separately from the adapter."""

    def enc(s: str) -> str:
        return quote(s, safe="").replace("+", "%20").replace("*", "%2A").replace("%7E", "~")

    params = {k: v for k, v in query.items() if k != "Signature"}
    canon = "&".join(f"{enc(k)}={enc(params[k])}" for k in sorted(params))
    sts = "GET&" + enc("/") + "&" + enc(canon)
    mac = hmac.new((secret + "&").encode(), sts.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def test_adapter_request_is_signed_and_complete(make_message, fake_session, response) -> None:
    fake_session.queue.append(response(200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"}))
    channel = AliyunSmsChannel(
        "LTAI-id",
        "s3cr3t*~ key",
        "连心物业",
        {"survey.issued": "SMS_123456"},
        clock=lambda: 1_700_000_000.0,
        nonce=lambda: "fixed-nonce",
        session=fake_session,
    )
    result = channel.send(make_message())
    assert result == Sent("900619746936498440^0")

    (call,) = fake_session.calls
    assert call.method == "GET"
    split = urlsplit(call.url)
    assert split.query.startswith("Signature=")
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    assert query["Signature"] == _independent_signature(query, "s3cr3t*~ key")
    assert query["Action"] == "SendSms"
    assert query["Version"] == "2017-05-25"
    assert query["Format"] == "JSON"
    assert query["SignatureMethod"] == "HMAC-SHA1"
    assert query["SignatureVersion"] == "1.0"
    assert query["SignatureNonce"] == "fixed-nonce"
    assert query["Timestamp"] == "2023-11-14T22:13:20Z"
    assert query["AccessKeyId"] == "LTAI-id"
    assert query["PhoneNumbers"] == "13800138000"
    assert query["SignName"] == "连心物业"
    assert query["TemplateCode"] == "SMS_123456"
    assert query["OutId"] == "notif-0001"
    assert json.loads(query["TemplateParam"]) == {
        "name": "张三",
        "survey": "物业服务满意度",
        "code": "42",
    }


def _channel(session) -> AliyunSmsChannel:
    return AliyunSmsChannel("id", "secret", "连心", {"survey.issued": "SMS_1"}, session=session)


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控"}, RetryLater),
        (400, {"Code": "Throttling.User", "Message": "Request was denied"}, RetryLater),
        (500, {"Code": "isp.SYSTEM_ERROR", "Message": "system error"}, RetryLater),
        (200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}, Failed),
        (200, {"Code": "isv.TEMPLATE_MISSING_PARAMETERS", "Message": "x"}, Failed),
        (400, {"Code": "SignatureDoesNotMatch", "Message": "bad sig"}, Failed),
    ],
)
def test_response_codes(make_message, fake_session, response, status, body, expected) -> None:
    fake_session.queue.append(response(status, body))
    result = _channel(fake_session).send(make_message())
    assert isinstance(result, expected)
    assert body["Code"] in result.reason


def test_non_json_5xx_is_retry_later(make_message, fake_session, response) -> None:
    fake_session.queue.append(response(502, text="<html>bad gateway</html>"))
    assert isinstance(_channel(fake_session).send(make_message()), RetryLater)


def test_network_error_is_retry_later(make_message, fake_session) -> None:
    fake_session.queue.append(requests.ConnectionError("connection refused"))
    result = _channel(fake_session).send(make_message())
    assert isinstance(result, RetryLater)
    assert "network error" in result.reason


def test_timeout_is_retry_later(make_message, fake_session) -> None:
    fake_session.queue.append(requests.ReadTimeout("read timed out"))
    result = _channel(fake_session).send(make_message())
    assert isinstance(result, RetryLater)
    assert "timeout" in result.reason


def test_recipient_without_phone_fails_without_request(make_message, fake_session) -> None:
    result = _channel(fake_session).send(make_message(recipient=Recipient(email="a@b.c")))
    assert result == Failed("no phone number")
    assert fake_session.calls == []


def test_non_e164_phone_fails(make_message, fake_session) -> None:
    result = _channel(fake_session).send(make_message(recipient=Recipient(phone="13800138000")))
    assert isinstance(result, Failed)
    assert "E.164" in result.reason


def test_unknown_kind_fails(make_message, fake_session) -> None:
    result = _channel(fake_session).send(make_message(kind="visit.scheduled"))
    assert isinstance(result, Failed)
    assert fake_session.calls == []
