"""The SSRF guard for webhook targets: which URLs we POST to, checked when a subscription is
saved and again, with a fresh DNS answer, at every delivery attempt (DNS rebinding).

A URL passes if it is https (http only with WEBHOOKS_ALLOW_PRIVATE_TARGETS), carries no
credentials, and its host resolves only to public addresses. The dispatcher then connects to
the very address checked here (`Target.address`), never resolving the name a second time.
The generic validation of stored links belongs to the models; this is the webhook-specific,
resolve-time rule.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# NAT64 and 6to4 embed IPv4 addresses too; refused as "reserved" with the mapped ones.
_TRANSLATED = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("2002::/16"))


class TargetRefused(Exception):
    """The URL may not be called; `reason` is stable (it is shown to the owner)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Target:
    """A URL cleared for one attempt, with the address to connect to."""

    url: str
    host: str
    port: int
    address: str


def address_class(ip: IPAddress) -> str | None:
    """Why an address is not a public one (a stable name), or None if it is."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return "ipv4_mapped"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "cgnat"
    if isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.ip_network("fc00::/7"):
        return "unique_local"
    if isinstance(ip, ipaddress.IPv6Address) and any(ip in net for net in _TRANSLATED):
        return "reserved"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"
    return None


def check_url(url: str, *, allow_private: bool) -> tuple[SplitResult, str, int]:
    """The checks that need no DNS: scheme, credentials, host. Returns (parts, host, port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused("invalid_url", "the URL is not valid") from exc
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise TargetRefused("scheme", "the URL must use https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise TargetRefused("credentials", "the URL must not carry credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused("invalid_url", "the URL has no host")
    if parts.fragment:
        raise TargetRefused("invalid_url", "the URL must not have a fragment")
    return parts, host, port or (443 if parts.scheme == "https" else 80)


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the host resolves to, from the system resolver."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def resolve_target(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver
) -> Target:
    """Check a URL and resolve its host now; every address it resolves to must be public
    (unless private targets are allowed), and the first one is the one to connect to."""
    _, host, port = check_url(url, allow_private=allow_private)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = await asyncio.wait_for(resolver(host, port), timeout=5)
        except (OSError, TimeoutError, UnicodeError) as exc:
            raise TargetRefused("unresolvable", f"the host {host!r} does not resolve") from exc
        if not addresses:
            raise TargetRefused("unresolvable", f"the host {host!r} does not resolve")
    if not allow_private:
        for address in addresses:
            refused = address_class(ipaddress.ip_address(address.split("%")[0]))
            if refused is not None:
                raise TargetRefused(
                    refused, f"the host resolves to a {refused.replace('_', '-')} address"
                )
    return Target(url=url, host=host, port=port, address=addresses[0])
