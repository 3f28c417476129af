"""HTTP to an address checked beforehand: the connection goes to that address, not to a new lookup.

A webhook's host is resolved and checked once (``webhook_targets.resolve``); if ``requests``
then resolved it again, a DNS server answering differently the second time (rebinding) would
send the request to an internal address after all. So the pool connects to the checked
address while the request keeps the name: in the ``Host`` header, in TLS SNI and in the
certificate check. No proxy from the environment is used (a proxy would resolve the name itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from services.notifications.webhook_targets import Target


class PinnedAdapter(HTTPAdapter):
    """Connects every request to ``target.address``, whatever its URL's host says."""

    def __init__(self, target: Target) -> None:
        self.target = target
        super().__init__(max_retries=0)

    def get_connection_with_tls_context(
        self, request: requests.PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> Any:
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        host_params["host"] = self.target.address
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = self.target.host
            pool_kwargs["assert_hostname"] = self.target.host
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        request.headers["Host"] = _host_header(self.target)
        return super().send(request, *args, **kwargs)


def _host_header(target: Target) -> str:
    name = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return name if target.port == default else f"{name}:{target.port}"


def post(
    target: Target, body: bytes, headers: Mapping[str, str], timeout: float, verify: bool | str = True
) -> requests.Response:
    """POST ``body`` to ``target.url`` over a connection to ``target.address``; redirects are not followed.

    The answer's body is never read (the status and headers are all a delivery needs).
    ``verify`` is requests' own: the system's CAs, or a bundle (tests use their own CA).
    """
    with requests.Session() as session:
        session.trust_env = False
        adapter = PinnedAdapter(target)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        response = session.post(
            target.url,
            data=body,
            headers=dict(headers),
            timeout=timeout,
            allow_redirects=False,
            stream=True,
            verify=verify,
        )
        response.close()  # only the status and headers count: a receiver cannot make us read a huge body
        return response
