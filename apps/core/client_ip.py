"""The client's IP address: one trusted-proxy rule for lockout, throttling, audit and logs.

The socket peer (REMOTE_ADDR) is the client unless it is one of TRUSTED_PROXIES. Only then
is X-Forwarded-For consulted, from the right: each trusted proxy appends the address it
received the request from, so the right-most address that is not a trusted proxy is the
first one no trusted party vouches for, i.e. the client. Everything left of it was written
by the client and is ignored (a forged header cannot choose the address). With
TRUSTED_PROXIES empty (the default) nobody is trusted and the header is never read.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _parse(value: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1, for matching and for keys
    return address


def _trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_ip_resolve(*, peer: str | None, forwarded_for: str | None, trusted: tuple[str, ...]) -> str | None:
    """The client address from the socket peer and the X-Forwarded-For value (pure)."""
    peer_address = _parse(peer or "")
    if peer_address is None:
        return None
    networks = _networks(trusted)
    if not forwarded_for or not _trusted(peer_address, networks):
        return str(peer_address)
    nearest = peer_address  # the closest hop we can vouch for so far
    for entry in reversed(forwarded_for.split(",")):
        address = _parse(entry)
        if address is None:
            break  # garbage where a trusted proxy should have written: trust nothing further left
        if not _trusted(address, networks):
            return str(address)
        nearest = address
    return str(nearest)


def client_ip(request: Any) -> str | None:
    """The client address of a Django or DRF request (None when it has no IP peer)."""
    if request is None:
        return None
    meta = getattr(request, "META", {})
    return client_ip_resolve(
        peer=meta.get("REMOTE_ADDR"),
        forwarded_for=meta.get("HTTP_X_FORWARDED_FOR"),
        trusted=tuple(settings.TRUSTED_PROXIES),
    )
