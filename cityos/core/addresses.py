"""Which network addresses the server may be made to connect to: public ones, and the private or local ones
an operator lists.

Clients name URLs the server then reaches (a remote @context, a subscription's notification endpoint);
without a check, a token could make the server read or post to internal services (SSRF), and the
answers' status codes would scan the intranet's ports. A name is resolved at the check and again by the
connection, so DNS that changes its answer in between is not caught: a deployment that must be strict
also filters the servers' outbound traffic.
"""

from __future__ import annotations

import ipaddress
import socket

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """Networks in CIDR notation, comma-separated (``10.0.0.0/8, 192.168.5.0/24``); ValueError naming a bad one."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            out.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not a network such as 10.0.0.0/8 or 127.0.0.1/32") from None
    return tuple(out)


def is_local(addr: Address) -> bool:
    """Loopback, private, link-local, reserved, multicast or unspecified: not a public address."""
    return (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_reserved
        or addr.is_multicast
        or addr.is_unspecified
    )


def permitted(addr: Address, allowed: tuple[Network, ...] = ()) -> bool:
    """Whether the server may connect to ``addr``: a public address, or one of the ``allowed`` networks."""
    return not is_local(addr) or any(addr.version == n.version and addr in n for n in allowed)


def refusal(host: str, port: int, allowed: tuple[Network, ...] = ()) -> str | None:
    """Why the server may not connect to ``host`` (resolved now), None when it may."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        return f"the host {host!r} cannot be resolved ({exc})"
    return refusal_of(host, [str(info[4][0]) for info in infos], allowed)


def refusal_of(host: str, addresses: list[str], allowed: tuple[Network, ...] = ()) -> str | None:
    """Why the server may not connect to ``host`` at these (resolved) ``addresses``, None when it may."""
    for text in addresses:
        addr = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 scope (fe80::1%eth0) is not part of it
        if not permitted(addr, allowed):
            return f"{host} is a private or local address ({addr})"
    return None
