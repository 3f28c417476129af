"""Where a tenant's webhook may point: public addresses only, checked when saved and when sent.

A webhook makes the platform send HTTP requests to an address a tenant typed. Without this
check the probe of issue 18 reached RabbitMQ, PostgreSQL, Redis and the services' health ports
on 127.0.0.1 and read their banners back in ``last_error``. So a URL must be ``http(s)``,
carry no credentials, and every address its host stands for must be globally routable:
loopback, private, shared (100.64/10), link-local (the 169.254.169.254 metadata service),
multicast, unspecified and reserved addresses are refused, also when spelled another way
(``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``[::ffff:127.0.0.1]``, 6to4,
Teredo, NAT64) or named (``localhost``, ``metadata.google.internal``).

The check runs again at send time on a fresh resolution, and the sender connects to the very
address checked (see ``channels.pinned``), so a DNS answer that changes after the check
(rebinding) cannot reach an internal address. ``WEBHOOK_ALLOWED_HOSTS`` names hosts an
operator lets through (an on-premise receiver); they match the URL's host exactly.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port → the addresses it stands for (strings); raises OSError (or UnicodeError, for a name
# IDNA cannot encode) when it does not resolve.
Resolver = Callable[[str, int], list[str]]

# What a tenant is told; the detail (which address, why) goes to the log only.
NOT_ALLOWED = "address not allowed"

_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal", "metadata.goog"})
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_SHARED = ipaddress.ip_network("100.64.0.0/10")
# Digits, dots and hex: the IPv4 spellings inet_aton accepts (127.1, 2130706433, 0x7f000001, 0177.0.0.1).
_NUMERIC = re.compile(r"^[0-9a-fx.]+$")


class Refused(Exception):
    """The URL may not be a webhook target; ``str()`` is the detail for the log."""

    public = NOT_ALLOWED


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``getaddrinfo`` gives for ``host`` (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


@dataclass(frozen=True)
class Policy:
    """The operator's allow-list and the resolver (a seam: tests pass a stub, never real DNS)."""

    allowed_hosts: frozenset[str] = frozenset()
    resolver: Resolver = system_resolver

    @classmethod
    def from_text(cls, allowed: str, resolver: Resolver = system_resolver) -> Policy:
        """``WEBHOOK_ALLOWED_HOSTS``: comma-separated host names or addresses, matched exactly."""
        return cls(frozenset(_host_key(h) for h in allowed.split(",") if h.strip()), resolver)


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and what to call it (``host``, for Host and TLS)."""

    url: str
    scheme: str
    host: str
    port: int
    address: str
    addresses: tuple[str, ...]


def parse(url: str) -> SplitResult:
    """http(s), a host, no user or password: credentials in a URL would be sent as Basic auth."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise Refused(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise Refused(f"scheme {parts.scheme!r} is not http or https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise Refused("credentials in the URL")
    if not parts.hostname:
        raise Refused("no host")
    return parts


def literal_address(host: str) -> IPAddress | None:
    """The address a host spells, in any of the spellings resolvers accept; None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC.match(host) and not host.endswith("."):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            raise Refused(f"{host!r} is not a valid address") from None
    return None


def forbidden(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or None when it is."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        reason = forbidden(embedded)
        return f"{reason} (inside {address})" if reason else None
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("shared (100.64/10)", isinstance(address, ipaddress.IPv4Address) and address in _SHARED),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
        ("not global", not address.is_global),
    )
    return next((f"{name} address {address}" for name, hit in checks if hit), None)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries: mapped (::ffff:a.b.c.d), 6to4, Teredo, NAT64."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _host_key(host: str) -> str:
    """How hosts are compared: lower case, no brackets, no trailing dot."""
    return host.strip().strip("[]").lower().rstrip(".")


def _default_port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme == "https" else 80)


def check_saved(url: str, policy: Policy) -> None:
    """When a URL is saved: its form, its host's spelling, and what it resolves to now.

    A name that does not resolve yet is accepted (the receiver may not be in DNS yet); the
    send-time check refuses it if it later points somewhere internal.
    """
    parts = parse(url)
    host = _host_key(parts.hostname or "")
    if host in policy.allowed_hosts:
        return
    if _check_host(host) is not None:
        return
    try:
        addresses = policy.resolver(host, _default_port(parts))
    except (OSError, ValueError):
        return
    _check_addresses(host, addresses)


def resolve(url: str, policy: Policy) -> Target:
    """At send time: resolve once, check every address, and name the one to connect to."""
    parts = parse(url)
    host = _host_key(parts.hostname or "")
    port = _default_port(parts)
    allowed = host in policy.allowed_hosts
    literal = literal_address(host) if allowed else _check_host(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        addresses = policy.resolver(host, port)  # OSError, ValueError: the caller reports "connection failed"
        if not addresses:
            raise OSError(f"{host} has no address")
        if not allowed:
            _check_addresses(host, addresses)
    return Target(url, parts.scheme, host, port, addresses[0], tuple(addresses))


def _check_host(host: str) -> IPAddress | None:
    """Refuse internal names and literal addresses; the literal (allowed) address, or None for a name."""
    if host in _NAMES or host.endswith(".localhost"):
        raise Refused(f"host {host!r} is internal")
    literal = literal_address(host)
    if literal is not None:
        reason = forbidden(literal)
        if reason:
            raise Refused(f"host {host!r}: {reason}")
    return literal


def _check_addresses(host: str, addresses: Iterable[str]) -> None:
    for text in addresses:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            raise Refused(f"host {host!r} resolved to {text!r}, not an address") from None
        reason = forbidden(address)
        if reason:
            raise Refused(f"host {host!r} resolves to a {reason}")
