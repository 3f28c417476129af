"""Aliyun (Alibaba Cloud) SMS via the RPC-style `SendSms` API, version 2017-05-25.

Implemented directly on HTTP rather than with Aliyun's SDK so the request and
its HMAC-SHA1 signature are visible, testable and free of heavy dependencies.
Signature algorithm (Aliyun "RPC signature v1"):

1. percent-encode every parameter name and value per RFC 3986 (only
   A-Z a-z 0-9 - _ . ~ stay literal; so space -> %20, * -> %2A, ~ stays ~),
2. sort by encoded name and join as `name=value` with `&` (canonical query),
3. StringToSign = "GET&%2F&" + percent_encode(canonical query),
4. Signature = base64(HMAC-SHA1(key=AccessKeySecret + "&", StringToSign)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import quote

import requests

from . import _http
from .base import Failed, Message, RetryLater, SendResult, Sent, require_phone

API_VERSION = "2017-05-25"

# Codes that mean "not now" rather than "never": flow control and provider faults.
_RETRY_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "isp.SYSTEM_ERROR",
        "isp.SYSTEM_BUSY",
        "ServiceUnavailable",
        "InternalError",
        "SignatureNonceUsed",  # our nonce collided; a fresh request gets a new one
    }
)
_RETRY_PREFIXES = ("Throttling",)


def percent_encode(value: str) -> str:
    """Aliyun's POP encoding: RFC 3986, UTF-8, only unreserved characters literal."""
    return quote(value, safe="~")


def canonical_query(params: Mapping[str, str]) -> str:
    """Sorted, percent-encoded `k=v&...` string (excludes Signature by contract)."""
    pairs = sorted((percent_encode(k), percent_encode(v)) for k, v in params.items())
    return "&".join(f"{k}={v}" for k, v in pairs)


def string_to_sign(params: Mapping[str, str], method: str = "GET") -> str:
    """The exact text Aliyun HMACs: METHOD&%2F&encoded(canonical query)."""
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def sign(params: Mapping[str, str], access_key_secret: str, method: str = "GET") -> str:
    """Base64 HMAC-SHA1 signature (not yet URL-encoded)."""
    digest = hmac.new(
        f"{access_key_secret}&".encode(),
        string_to_sign(params, method).encode(),
        hashlib.sha1,
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def aliyun_phone(e164: str) -> str:
    """Aliyun wants mainland numbers bare and others as country code + number, no "+"."""
    return e164[3:] if e164.startswith("+86") else e164.lstrip("+")


def classify(code: str, message: str, biz_id: str | None) -> SendResult:
    """Map an Aliyun response Code to a result."""
    if code == "OK":
        return Sent(biz_id)
    reason = f"aliyun {code}: {message}"
    if code in _RETRY_CODES or code.startswith(_RETRY_PREFIXES):
        return RetryLater(reason)
    return Failed(reason)


class AliyunSmsChannel:
    """Sends template SMS through Aliyun's `SendSms`."""

    name = "aliyun_sms"

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_codes: Mapping[str, str],
        endpoint: str = "https://dysmsapi.aliyuncs.com/",
        *,
        region_id: str = "cn-hangzhou",
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: uuid.uuid4().hex,
        session: requests.Session | None = None,
    ) -> None:
        self._key_id = access_key_id
        self._secret = access_key_secret
        self._sign_name = sign_name
        self._templates = dict(template_codes)
        self._endpoint = endpoint if endpoint.endswith("/") else endpoint + "/"
        self._region_id = region_id
        self._timeout = timeout
        self._clock = clock
        self._nonce = nonce
        self._http = session or requests.Session()

    def build_params(self, message: Message, phone: str, template_code: str) -> dict[str, str]:
        """All request parameters except Signature (public for tests and debugging)."""
        ts = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "AccessKeyId": self._key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": message.idempotency_key,
            "PhoneNumbers": aliyun_phone(phone),
            "RegionId": self._region_id,
            "SignName": self._sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": self._nonce(),
            "SignatureVersion": "1.0",
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(dict(message.params), ensure_ascii=False),
            "Timestamp": ts,
            "Version": API_VERSION,
        }

    def signed_url(self, params: Mapping[str, str]) -> str:
        """The GET URL with Signature first, then the canonical query."""
        signature = percent_encode(sign(params, self._secret))
        return f"{self._endpoint}?Signature={signature}&{canonical_query(params)}"

    def send(self, message: Message) -> SendResult:
        phone = require_phone(message.recipient)
        if isinstance(phone, Failed):
            return phone
        template_code = self._templates.get(message.kind)
        if template_code is None:
            return Failed(f"no aliyun template for kind {message.kind!r}")
        url = self.signed_url(self.build_params(message, phone, template_code))
        try:
            response = self._http.get(url, timeout=self._timeout, allow_redirects=False)
        except requests.RequestException as exc:
            return _http.transport_error(exc)
        data = _http.json_body(response)
        if data is not None and isinstance(data.get("Code"), str):
            result = classify(data["Code"], str(data.get("Message", "")), data.get("BizId"))
            if isinstance(result, RetryLater) and response.status_code in (429, 503):
                retry_after = _http.retry_after_seconds(response.headers.get("Retry-After"))
                result = RetryLater(result.reason, retry_after)
            return result
        return _http.status_result(response, "aliyun") or Failed(
            f"aliyun: unexpected response HTTP {response.status_code}"
        )
