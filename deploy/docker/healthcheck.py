#!/usr/bin/env python3
"""Container health probe for the Lianxin image (python:*-slim has no curl or wget).

Installed as /usr/local/bin/lianxin-healthcheck. Standard library only.

    lianxin-healthcheck                      GET /livez of the service in this container
    lianxin-healthcheck /readyz              another path, same port
    lianxin-healthcheck http://127.0.0.1:8080/readyz   an explicit URL

Which port: LIANXIN_HEALTH_URL if set; otherwise GATEWAY_PORT (8000) when this container
runs the gateway, HEALTH_PORT (8080) for every other service. The service is read from PID 1's
command line (`lianxin-service gateway`, possibly behind docker-init/tini).

Exit status 0 when the answer is 2xx within the timeout, 1 otherwise (HEALTHCHECK semantics).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = float(os.environ.get("HEALTHCHECK_TIMEOUT", "3"))


def _runs_gateway() -> bool:
    try:
        with open("/proc/1/cmdline", "rb") as handle:
            argv = [part.decode(errors="replace") for part in handle.read().split(b"\0")]
    except OSError:
        return False
    return "gateway" in argv


def _default_base() -> str:
    variable, default = ("GATEWAY_PORT", "8000") if _runs_gateway() else ("HEALTH_PORT", "8080")
    return f"http://127.0.0.1:{os.environ.get(variable) or default}"


def _target(argv: list[str]) -> str:
    arg = argv[1] if len(argv) > 1 else ""
    if arg.startswith(("http://", "https://")):
        return arg
    if os.environ.get("LIANXIN_HEALTH_URL") and not arg:
        return os.environ["LIANXIN_HEALTH_URL"]
    path = arg or "/livez"
    if not path.startswith("/"):
        path = "/" + path
    return _default_base() + path


def main(argv: list[str]) -> int:
    url = _target(argv)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as error:
        print(f"unhealthy: {url} -> HTTP {error.code}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"unhealthy: {url} -> {error}", file=sys.stderr)
        return 1
    if 200 <= status < 300:
        return 0
    print(f"unhealthy: {url} -> HTTP {status}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
