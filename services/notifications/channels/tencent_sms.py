"""Tencent Cloud SMS via API 3.0 `SendSms` (version 2021-01-11), signed with
TC3-HMAC-SHA256.

Implemented directly on HTTP rather than with Tencent's SDK so the exact bytes
that are signed are the bytes that are sent, and so tests can re-verify them.
Signature algorithm (Tencent "签名方法 v3"):

1. CanonicalRequest = "POST\\n/\\n\\n" + "content-type:<ct>\\nhost:<host>\\n" + "\\n"
   + "content-type;host\\n" + hex(sha256(body)),
2. StringToSign = "TC3-HMAC-SHA256\\n<timestamp>\\n<date>/<service>/tc3_request\\n"
   + hex(sha256(CanonicalRequest)), date being the UTC date of the timestamp,
3. SecretDate = HMAC("TC3" + SecretKey, date); SecretService = HMAC(SecretDate, service);
   SecretSigning = HMAC(SecretService, "tc3_request");
   Signature = hex(HMAC(SecretSigning, StringToSign)).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests

from . import _http
from .base import Failed, Message, RetryLater, SendResult, Sent, require_phone

API_VERSION = "2021-01-11"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host"

_RETRY_PREFIXES = ("LimitExceeded", "RequestLimitExceeded", "InternalError")
# Per-number frequency limits tell us how long to wait.
_LIMIT_WAITS = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": 30.0,
    "LimitExceeded.PhoneNumberOneHourLimit": 3600.0,
}


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def canonical_request(host: str, body: bytes, content_type: str = CONTENT_TYPE) -> str:
    """The TC3 canonical request for a POST to "/" with no query string.

    Signed header values are lower-cased and trimmed, as the algorithm requires.
    """
    return (
        "POST\n/\n\n"
        f"content-type:{content_type.strip().lower()}\nhost:{host.strip().lower()}\n\n"
        f"{SIGNED_HEADERS}\n"
        f"{hashlib.sha256(body).hexdigest()}"
    )


def tc3_signature(
    secret_key: str,
    service: str,
    host: str,
    timestamp: int,
    body: bytes,
    content_type: str = CONTENT_TYPE,
) -> str:
    """Hex TC3-HMAC-SHA256 signature of a JSON POST."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{date}/{service}/tc3_request"
    hashed = hashlib.sha256(canonical_request(host, body, content_type).encode()).hexdigest()
    to_sign = f"{ALGORITHM}\n{timestamp}\n{scope}\n{hashed}"
    secret_date = _hmac(f"TC3{secret_key}".encode(), date)
    secret_signing = _hmac(_hmac(secret_date, service), "tc3_request")
    return hmac.new(secret_signing, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(
    secret_id: str,
    secret_key: str,
    service: str,
    host: str,
    timestamp: int,
    body: bytes,
    content_type: str = CONTENT_TYPE,
) -> str:
    """The full Authorization header value."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    signature = tc3_signature(secret_key, service, host, timestamp, body, content_type)
    return (
        f"{ALGORITHM} Credential={secret_id}/{date}/{service}/tc3_request, "
        f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}"
    )


def classify(code: str, message: str) -> RetryLater | Failed:
    """Map a non-"Ok" Tencent code (status or Response.Error) to a result."""
    reason = f"tencent {code}: {message}"
    if code.startswith(_RETRY_PREFIXES):
        return RetryLater(reason, _LIMIT_WAITS.get(code))
    return Failed(reason)


class TencentSmsChannel:
    """Sends template SMS through Tencent Cloud's `SendSms`."""

    name = "tencent_sms"
    service = "sms"

    def __init__(
        self,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        template_ids: Mapping[str, str],
        template_param_order: Mapping[str, Sequence[str]],
        region: str = "ap-guangzhou",
        endpoint: str = "https://sms.tencentcloudapi.com",
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
    ) -> None:
        self._secret_id = secret_id
        self._secret_key = secret_key
        self._sdk_app_id = sdk_app_id
        self._sign_name = sign_name
        self._templates = dict(template_ids)
        self._order = {kind: list(names) for kind, names in template_param_order.items()}
        self._region = region
        self._endpoint = endpoint.rstrip("/") + "/"
        self._host = urlsplit(endpoint).netloc
        self._timeout = timeout
        self._clock = clock
        self._http = session or requests.Session()

    def build_body(self, message: Message, phone: str, template_id: str) -> bytes | Failed:
        """The JSON request body, with TemplateParamSet in the configured order."""
        names = self._order.get(message.kind, [])
        missing = [n for n in names if n not in message.params]
        if missing:
            return Failed(f"missing template parameters {missing} for kind {message.kind!r}")
        body = {
            "PhoneNumberSet": [phone],
            "SmsSdkAppId": self._sdk_app_id,
            "SignName": self._sign_name,
            "TemplateId": template_id,
            "TemplateParamSet": [message.params[n] for n in names],
            "SessionContext": message.idempotency_key,
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def build_headers(self, body: bytes, timestamp: int) -> dict[str, str]:
        """Headers for one request, including the TC3 Authorization."""
        return {
            "Authorization": authorization(
                self._secret_id, self._secret_key, self.service, self._host, timestamp, body
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": self._host,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": API_VERSION,
            "X-TC-Region": self._region,
        }

    def send(self, message: Message) -> SendResult:
        phone = require_phone(message.recipient)
        if isinstance(phone, Failed):
            return phone
        template_id = self._templates.get(message.kind)
        if template_id is None:
            return Failed(f"no tencent template for kind {message.kind!r}")
        body = self.build_body(message, phone, template_id)
        if isinstance(body, Failed):
            return body
        headers = self.build_headers(body, int(self._clock()))
        try:
            response = self._http.post(
                self._endpoint,
                data=body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return _http.transport_error(exc)
        data = _http.json_body(response)
        inner = data.get("Response") if data else None
        if not isinstance(inner, dict):
            return _http.status_result(response, "tencent") or Failed(
                f"tencent: unexpected response HTTP {response.status_code}"
            )
        error = inner.get("Error")
        if isinstance(error, dict):
            return classify(str(error.get("Code", "")), str(error.get("Message", "")))
        statuses = inner.get("SendStatusSet")
        if not isinstance(statuses, list) or not statuses or not isinstance(statuses[0], dict):
            return Failed("tencent: response has no SendStatusSet")
        status = statuses[0]
        code = str(status.get("Code", ""))
        if code == "Ok":
            serial = status.get("SerialNo")
            return Sent(str(serial) if serial is not None else None)
        return classify(code, str(status.get("Message", "")))
