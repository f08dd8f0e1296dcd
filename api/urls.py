"""Links: public http(s) URLs only, and a published post's link on its own platform.

One home for what a URL the service stores or calls must be:

- `check_public_url(url)` (used by the `Url` type of every stored link: a product's page,
  a brand's website, a draft, a live post) refuses anything but `http`/`https` with a
  public host name or address: no loopback, private, link-local (169.254.169.254, the cloud
  metadata service), shared, reserved or multicast address in any spelling (`127.1`,
  `2130706433`, `0x7f.1`, `[::ffff:127.0.0.1]`), no `localhost`/`.local`/`.internal` names
  and no single-label hosts, no credentials (`user:pass@`), and no control, bidirectional
  or invisible characters (U+202E and friends) that make a link read as something else.
- `resolve_public(url)` is for code that *calls* a URL (webhook delivery): it resolves the
  host now and refuses when any address it resolves to is not public, returning the vetted
  addresses so the caller can connect to one of them (no second lookup to rebind).
- `on_platform(url, platform)`: a published post's link is on its platform's domains.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import unicodedata
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2_000

# Names that never leave the local network (RFC 6761, RFC 8375, common practice).
_LOCAL_NAMES = ("localhost", "local", "internal", "localdomain", "home.arpa", "arpa")
# Control characters, format characters (bidi overrides, zero-width joiners, BOM), line
# and paragraph separators, spaces, private use, surrogates and unassigned code points.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Zs", "Co", "Cs", "Cn"})
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# What a browser reads as an IPv4 number when it ends a host name (WHATWG URL).
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")

# A published post's link, per platform (and their subdomains: www., m., vm., ...). A blog
# lives anywhere.
PLATFORM_DOMAINS: dict[str, tuple[str, ...]] = {
    "instagram": ("instagram.com",),
    "tiktok": ("tiktok.com",),
    "youtube": ("youtube.com", "youtu.be"),
    "facebook": ("facebook.com",),
    "x": ("x.com", "twitter.com"),
    "twitch": ("twitch.tv",),
    "pinterest": ("pinterest.com",),
    "snapchat": ("snapchat.com",),
    "linkedin": ("linkedin.com",),
}


class UnsafeUrl(ValueError):
    """The URL is not a public http(s) URL (the message says why, without echoing it)."""


def is_public_address(address: IPAddress) -> bool:
    """A unicast address on the public internet (IPv4-mapped IPv6 judged as its IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_multicast
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
        or address.is_private
    )


def _ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """The address a host name spells as an IPv4 number in any form browsers accept."""
    if not _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        raise UnsafeUrl("the host is not a valid IPv4 address") from None


def _check_host(parts: SplitResult) -> None:
    if "@" in parts.netloc:
        raise UnsafeUrl("credentials are not allowed in a link")
    host = parts.hostname or ""
    if not host:
        raise UnsafeUrl("a host is required")
    if ":" in host:  # an IPv6 literal (urlsplit dropped its brackets)
        try:
            address: IPAddress | None = ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeUrl("the host is not a valid IPv6 address") from None
    else:
        host = host[:-1] if host.endswith(".") else host
        try:
            ascii_host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise UnsafeUrl("the host is not a valid domain name") from None
        address = _ipv4_literal(ascii_host)
        if address is None:
            labels = ascii_host.split(".")
            if len(labels) < 2 or len(ascii_host) > 253:
                raise UnsafeUrl("the host must be a public domain name")
            if not all(_LABEL.fullmatch(label) for label in labels):
                raise UnsafeUrl("the host is not a valid domain name")
            if any(ascii_host == n or ascii_host.endswith("." + n) for n in _LOCAL_NAMES):
                raise UnsafeUrl("the host is a local name")
    if address is not None and not is_public_address(address):
        raise UnsafeUrl("the host is not a public address")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port when it is read
    except ValueError:
        raise UnsafeUrl("the port is not valid") from None


def check_public_url(url: str) -> str:
    """`url` if it is a public http(s) URL; else `UnsafeUrl` (a `ValueError`: a 422 when
    raised by a schema's validator)."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"a link has at most {MAX_URL_LENGTH} characters")
    if any(unicodedata.category(ch) in _UNSAFE_CATEGORIES for ch in url):
        raise UnsafeUrl("control, invisible or direction-changing characters are not allowed")
    if "\\" in url:
        # Browsers read a backslash as a slash; urlsplit does not: they would see two hosts.
        raise UnsafeUrl("backslashes are not allowed in a link")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not url.lower().startswith(f"{parts.scheme}://"):
        raise UnsafeUrl("only http and https links are allowed")
    _check_host(parts)
    return url


def host_of(url: str) -> str:
    """The lower-case host of a URL, without a final dot."""
    return (urlsplit(url).hostname or "").rstrip(".").lower()


def on_platform(url: str, platform: str) -> bool:
    """Whether a post's link is on its platform's domains (any link for a blog)."""
    domains = PLATFORM_DOMAINS.get(platform)
    if domains is None:
        return True
    host = host_of(url)
    return any(host == d or host.endswith("." + d) for d in domains)


async def resolve_public(url: str, *, default_port: int | None = None) -> list[IPAddress]:
    """Check `url` as `check_public_url` does, resolve its host now, and return its
    addresses; `UnsafeUrl` when it resolves to nothing or to any address that is not
    public. For code that connects to a URL (webhook delivery): connect to these
    addresses, not to a second lookup of the name."""
    check_public_url(url)
    parts = urlsplit(url)
    port = parts.port or default_port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise UnsafeUrl("the host does not resolve") from None
    addresses: list[IPAddress] = []
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]
        address = ipaddress.ip_address(raw)
        if not is_public_address(address):
            raise UnsafeUrl("the host resolves to an address that is not public")
        addresses.append(address)
    if not addresses:
        raise UnsafeUrl("the host does not resolve")
    return addresses
