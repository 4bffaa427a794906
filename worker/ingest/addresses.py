"""Where newswatch may connect: public addresses, and the hosts an operator lists in NEWSWATCH_ALLOW_HOSTS.

A feed, a page, a redirect or an alert channel's URL can name any address: the machine itself, a private
network, a cloud's metadata service (169.254.169.254). Outbound HTTP goes only to globally routable
addresses, unless the host is listed (`AllowList`: host names or IPs, optionally `host:port`). An entry
that is an IP also allows a host name resolving to it.

The decision is a pure function of the URL or of (host, port, address), so it is tested without
connecting anywhere; `worker.ingest.transport` makes it again at connect time, on each address the host
resolved to, and connects only to an address it accepted. Host spellings a resolver accepts are read as
the resolver would: `2130706433`, `0x7f.1` and `0177.0.0.1` are 127.0.0.1 (inet_aton's forms, which
getaddrinfo honours), `[::ffff:127.0.0.1]` is judged as the IPv4 address it maps, and `localhost` names
are loopback without asking a resolver (RFC 6761).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
ALLOW_HINT = "list the host in NEWSWATCH_ALLOW_HOSTS to allow it"
_LEGACY_IPV4 = re.compile(r"(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}")


@dataclass(frozen=True)
class AllowEntry:
    """One listed host: a name or an address, on any port or on one."""

    host: str
    port: int | None = None
    address: IPAddress | None = None


@dataclass(frozen=True)
class AllowList:
    """The hosts outbound HTTP may reach whatever their address (NEWSWATCH_ALLOW_HOSTS)."""

    entries: tuple[AllowEntry, ...] = ()

    @classmethod
    def parse(cls, items: Iterable[str]) -> AllowList:
        """Entries as written: `name`, `name:port`, `10.0.0.5`, `::1`, `[::1]:8080`; a bad one is a ValueError."""
        return cls(tuple(_entry(item.strip()) for item in items if item.strip()))

    def allows(self, host: str, port: int, address: IPAddress | None) -> bool:
        """Whether (host, port), connecting to `address`, is listed by name or by address."""
        name = normal_host(host)
        addresses = {_unmapped(a) for a in (address, ip_literal(name)) if a is not None}
        for entry in self.entries:
            if entry.port is not None and entry.port != port:
                continue
            if entry.host == name if entry.address is None else entry.address in addresses:
                return True
        return False


def normal_host(host: str) -> str:
    """A host as compared: lowercase, without IPv6 brackets or a trailing dot."""
    return host.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")


def ip_literal(host: str) -> IPAddress | None:
    """The address a host written as an IP stands for (every spelling inet_aton accepts), else None."""
    name = normal_host(host)
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return _legacy_ipv4(name)


def address_problem(address: IPAddress) -> str | None:
    """Why an address is not public ("loopback address 127.0.0.1"), or None when it is."""
    plain = _unmapped(address)
    shown = str(plain) if plain == address else f"{plain} (as {address})"
    for kind, flag in (
        ("unspecified", plain.is_unspecified),
        ("loopback", plain.is_loopback),
        ("link-local", plain.is_link_local),
        ("multicast", plain.is_multicast),
        ("private", plain.is_private),
        ("reserved", plain.is_reserved),
    ):
        if flag:
            return f"{kind} address {shown}"
    if not plain.is_global or (isinstance(plain, ipaddress.IPv6Address) and _embeds_ipv4(plain)):
        return f"non-public address {shown}"
    return None


def refusal(host: str, port: int, address: IPAddress, allow: AllowList) -> str | None:
    """Why connecting to `address` for `host:port` is refused, or None when it is allowed."""
    if allow.allows(host, port, address):
        return None
    return address_problem(address)


def url_refusal(url: str, allow: AllowList) -> str | None:
    """What the URL alone tells: a scheme other than http(s), or a host that is a non-public IP or a
    `localhost` name and not listed. Host names are judged once resolved, when connecting."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        return f"scheme {scheme or 'missing'} is not http or https"
    host = normal_host(parts.hostname or "")
    if not host:
        return "no host"
    port = port or DEFAULT_PORTS[scheme]
    literal = ip_literal(host)
    if literal is not None:
        return refusal(host, port, literal, allow)
    if (host == "localhost" or host.endswith(".localhost")) and not allow.allows(host, port, None):
        return f"loopback name {host}"
    return None


def _entry(item: str) -> AllowEntry:
    host, port = item, None
    if item.startswith("["):
        host, _, rest = item[1:].partition("]")
        if rest:
            port = _port(item, rest.removeprefix(":") if rest.startswith(":") else "")
    elif item.count(":") == 1:
        host, raw = item.split(":")
        port = _port(item, raw)
    host = normal_host(host)
    if not host or "/" in host:
        raise ValueError(f"not a host or host:port: {item!r}")
    address = ip_literal(host)
    if address is None:
        return AllowEntry(host, port)
    return AllowEntry(str(_unmapped(address)), port, _unmapped(address))


def _port(item: str, raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"not a port in {item!r}")
    return int(raw)


def _legacy_ipv4(name: str) -> ipaddress.IPv4Address | None:
    """inet_aton's spellings: one to four parts, each decimal, octal (a leading 0) or hex (0x); the last part
    fills the remaining bytes (`127.1` is 127.0.0.1, `2130706433` too)."""
    if not _LEGACY_IPV4.fullmatch(name):
        return None
    try:
        *head, last = [_number(part) for part in name.split(".")]
    except ValueError:
        return None
    if any(part > 255 for part in head) or last >= 256 ** (4 - len(head)):
        return None
    value = last
    for index, part in enumerate(head):
        value += part << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _number(part: str) -> int:
    if part.startswith("0x"):
        return int(part[2:], 16)
    return int(part, 8) if len(part) > 1 and part.startswith("0") else int(part)


def _unmapped(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d) stands for; others unchanged."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _embeds_ipv4(address: ipaddress.IPv6Address) -> bool:
    """6to4 and Teredo addresses carry an IPv4 address a relay may reach; judge them as not public."""
    return address.sixtofour is not None or address.teredo is not None
