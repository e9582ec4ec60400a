"""Which URLs a webhook may call: a guard against server-side request forgery.

A webhook URL is chosen by an organiser, but the request is made by our server, from
inside our network. So before registering a URL and again before every delivery the
host is resolved and every address it resolves to is checked; the delivery then
connects to the checked address itself (never resolving again), so a DNS answer that
changes between check and connection ("DNS rebinding") cannot redirect it inward.

Refused always: schemes other than http and https, user names or passwords in the URL,
and the unspecified (0.0.0.0, ::), multicast and reserved ranges. Refused unless an
admin allowed private addresses for that webhook: loopback (127/8, ::1), private
(10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 with the cloud metadata
service, fe80::/10), shared (100.64/10) and anything else not globally routable.
IPv4-mapped IPv6 addresses (::ffff:127.0.0.1), 6to4 (2002::/16) and NAT64 (64:ff9b::/96)
addresses are judged as the IPv4 address they carry.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

SCHEMES = {"http": 80, "https": 443}
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix: the low 32 bits are IPv4


class UnsafeUrl(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Target:
    """A URL that passed the checks, with the addresses it may be reached at."""

    url: str
    scheme: str
    host: str           # as written in the URL (for Host, SNI and the certificate check)
    port: int
    path: str           # path and query, at least "/"
    addresses: tuple[str, ...]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _unmapped(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:  # 2002::/16 embeds an IPv4 address
            return address.sixtofour
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def refusal(address: str, *, allow_private: bool) -> str | None:
    """Why `address` may not be called, or None if it may."""
    try:
        ip = _unmapped(ipaddress.ip_address(address.split("%", 1)[0]))
    except ValueError:
        return f"{address!r} is not an IP address"
    if ip.is_unspecified:
        return f"{ip} is the unspecified address"
    if ip.is_multicast:
        return f"{ip} is a multicast address"
    if ip.is_global:
        return None
    if allow_private and (ip.is_loopback or not ip.is_reserved):
        return None
    if ip.is_loopback:
        return f"{ip} is a loopback address"
    if ip.is_reserved:
        return f"{ip} is a reserved address"
    if ip.is_link_local:
        return f"{ip} is a link-local address"
    if ip.is_private:
        return f"{ip} is a private address"
    return f"{ip} is not a public internet address"


def parse(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of an acceptable URL, or UnsafeUrl."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        raise UnsafeUrl("This is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeUrl("Use an http:// or https:// URL.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("Leave user names and passwords out of the URL.")
    host = parts.hostname
    if not host:
        raise UnsafeUrl("The URL needs a host name.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port or SCHEMES[scheme], path


def check(url: str, *, allow_private: bool = False, resolver: Resolver | None = None) -> Target:
    """Resolve the URL's host (with `resolver`, by default the system's) and refuse it if
    ANY of its addresses is refused (a name may resolve to one public and one private
    address)."""
    scheme, host, port, path = parse(url)
    try:
        addresses = list((resolver or system_resolver)(host, port))
    except (OSError, UnicodeError) as exc:
        raise UnsafeUrl(f"The host {host} could not be found ({exc}).") from None
    if not addresses:
        raise UnsafeUrl(f"The host {host} has no address.")
    for address in addresses:
        reason = refusal(address, allow_private=allow_private)
        if reason:
            raise UnsafeUrl(f"{host} resolves to {address}, which is refused: {reason}."
                            + ("" if allow_private else " An admin can allow private addresses for a webhook."))
    return Target(url=url, scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))
