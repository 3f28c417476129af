"""WeChat mini-program subscribe messages (订阅消息).

The send API needs an access_token that WeChat rations (daily quota on
/cgi-bin/token, and a new token invalidates the old one after a grace
period), so the token is cached and shared between threads, refreshed only
when it is about to expire or WeChat says it is invalid.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from . import _http
from .base import Failed, Message, RetryLater, SendResult, Sent

# errcodes meaning "this access_token is no good": invalid credential,
# access_token expired, invalid access_token.
TOKEN_ERRCODES = frozenset({40001, 42001, 40014})
NOT_SUBSCRIBED = 43101
# System busy, API daily quota reached, API minute frequency limit.
RETRY_ERRCODES = frozenset({-1, 45009, 45011})


class _TokenError(Exception):
    def __init__(self, result: RetryLater | Failed) -> None:
        super().__init__(result.reason)
        self.result = result


class WeChatSubscribeChannel:
    """Sends subscribe messages to a user's openid through the mini-program API."""

    name = "wechat"

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        template_ids: Mapping[str, str],
        endpoint: str = "https://api.weixin.qq.com",
        page: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        safety_margin: float = 300.0,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self._app_id = app_id
        self._app_secret = app_secret
        self._templates = dict(template_ids)
        self._endpoint = endpoint.rstrip("/")
        self._page = page
        self._clock = clock
        self._margin = safety_margin
        self._timeout = timeout
        self._http = session or requests.Session()
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    # -- access token -----------------------------------------------------

    def _access_token(self) -> str:
        """A valid cached token, fetching a new one when missing or expiring.

        Raises `_TokenError` (internal) carrying the result to return.
        """
        with self._lock:
            if self._token is not None and self._clock() < self._expires_at:
                return self._token
            token, expires_in = self._fetch_token()
            # Renew a margin early; for implausibly short lifetimes use half of it.
            lifetime = expires_in - self._margin if expires_in > 2 * self._margin else expires_in / 2
            self._token = token
            self._expires_at = self._clock() + lifetime
            return token

    def _invalidate(self, token: str) -> None:
        """Forget `token`, unless another thread already replaced it."""
        with self._lock:
            if self._token == token:
                self._token = None
                self._expires_at = 0.0

    def _fetch_token(self) -> tuple[str, float]:
        try:
            response = self._http.get(
                f"{self._endpoint}/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self._app_id,
                    "secret": self._app_secret,
                },
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise _TokenError(_http.transport_error(exc)) from exc
        data = _http.json_body(response)
        if data is None:
            bad = _http.status_result(response, "wechat token")
            raise _TokenError(bad or RetryLater("wechat token: response is not JSON"))
        token = data.get("access_token")
        if isinstance(token, str) and token:
            expires_in = data.get("expires_in", 7200)
            return token, float(expires_in) if isinstance(expires_in, int | float) else 7200.0
        raise _TokenError(_classify(data, "wechat token"))

    # -- sending ----------------------------------------------------------

    def build_payload(self, message: Message, template_id: str) -> dict[str, Any]:
        """The JSON body for subscribe/send; each param becomes a data key."""
        payload: dict[str, Any] = {
            "touser": message.recipient.wechat_openid,
            "template_id": template_id,
            "data": {key: {"value": value} for key, value in message.params.items()},
        }
        if self._page:
            payload["page"] = self._page
        return payload

    def send(self, message: Message) -> SendResult:
        if not message.recipient.wechat_openid:
            return Failed("no wechat openid")
        template_id = self._templates.get(message.kind)
        if template_id is None:
            return Failed(f"no wechat template for kind {message.kind!r}")
        payload = self.build_payload(message, template_id)
        try:
            token = self._access_token()
            result = self._post(token, payload)
            if result is _TOKEN_REJECTED:
                # Another app instance may have refreshed the token: refresh once.
                self._invalidate(token)
                result = self._post(self._access_token(), payload)
        except _TokenError as exc:
            return exc.result
        if result is _TOKEN_REJECTED:
            return RetryLater("wechat: access_token rejected twice")
        assert isinstance(result, Sent | RetryLater | Failed)
        return result

    def _post(self, token: str, payload: dict[str, Any]) -> SendResult | object:
        try:
            response = self._http.post(
                f"{self._endpoint}/cgi-bin/message/subscribe/send",
                params={"access_token": token},
                json=payload,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            return _http.transport_error(exc)
        data = _http.json_body(response)
        if data is None:
            return _http.status_result(response, "wechat") or RetryLater("wechat: response is not JSON")
        errcode = data.get("errcode", 0)
        if errcode in TOKEN_ERRCODES:
            return _TOKEN_REJECTED
        if errcode == 0:
            msgid = data.get("msgid")
            return Sent(str(msgid) if msgid is not None else None)
        return _classify(data, "wechat")


_TOKEN_REJECTED = object()


def _classify(data: Mapping[str, Any], what: str) -> RetryLater | Failed:
    errcode = data.get("errcode")
    reason = f"{what} errcode {errcode}: {data.get('errmsg', '')}"
    if errcode == NOT_SUBSCRIBED:
        return Failed(f"{reason} (user has not subscribed)")
    if errcode in RETRY_ERRCODES:
        return RetryLater(reason)
    return Failed(reason)
