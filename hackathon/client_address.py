"""The client's address as the site sees it: from the proxy headers of trusted proxies only, else the peer."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# What TRUSTED_PROXIES holds (hackathon.config.env.env_networks reads it).
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 192.0.2.1:443
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d: compare it as the IPv4 address it is.
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def client_address(request: HttpRequest) -> str:
    """Return the address of the person behind the request.

    X-Forwarded-For is read only when the peer is a trusted proxy (TRUSTED_PROXIES), from the right: each hop
    appends who connected to it, so the first address that is not a trusted proxy is the client; whatever lies
    left of it was written by the client and is not believed. From any other peer the header is ignored.
    """
    proxies: tuple[Network, ...] = settings.TRUSTED_PROXIES
    peer = _address(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return request.META.get("REMOTE_ADDR", "") or "unknown"
    if not _trusted(peer, proxies):
        return str(peer)
    client = peer
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")  # repeated headers arrive joined by commas
    for hop in reversed(hops):
        if not hop.strip():
            continue
        address = _address(hop)
        if address is None:  # a garbled entry: believe no further than the last trusted hop
            break
        client = address
        if not _trusted(address, proxies):
            break
    return str(client)
