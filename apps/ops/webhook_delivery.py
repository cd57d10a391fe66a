"""Webhook delivery that cannot be pointed at internal services (SSRF).

The host is resolved once, every address is checked, and the connection goes to the checked
address (pinned): no second resolution can swap it. The Host header, TLS SNI and certificate
verification still use the URL's name. Redirects are never followed. The resolver and the TLS
context are parameters so tests (the machine is offline) can feed nip.io-style answers.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import urllib3

from apps.core.exceptions import ApplicationError

Resolver = Callable[[str, int], Sequence[str]]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (IPv4 and IPv6)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def address_problem(address: str) -> str | None:
    """Why an address may not receive a user's webhook, or None (IPv4-mapped IPv6 unwrapped)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    flags = ("loopback", "private", "link_local", "multicast", "reserved", "unspecified")
    for flag in flags:
        if getattr(ip, f"is_{flag}"):
            return f"{address} is a {flag.replace('_', '-')} address"
    return None if ip.is_global else f"{address} is not a public address"


class WebhookRefused(ApplicationError):
    pass


def webhook_target(*, url: str, resolver: Resolver, public_only: bool) -> tuple[str, int, str]:
    """(address, port, host) to connect to; WebhookRefused when any resolved address is internal."""
    parts = urlsplit(url)
    allowed = ("https",) if public_only else ("https", "http")  # operators may use an internal http hook
    if parts.scheme not in allowed or not parts.hostname:
        raise WebhookRefused("webhook URL must be https://", code="webhook_refused")
    host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = list(resolver(host, port))
    except OSError as exc:
        raise WebhookRefused(f"webhook host {host} does not resolve: {exc}", code="webhook_refused") from exc
    if not addresses:
        raise WebhookRefused(f"webhook host {host} does not resolve", code="webhook_refused")
    problems = [p for p in map(address_problem, addresses) if p] if public_only else []
    if problems:
        raise WebhookRefused(f"webhook host {host} refused: {problems[0]}", code="webhook_refused")
    return addresses[0], port, host


def _pinned_pool(
    *, scheme: str, address: str, port: int, host: str, timeout: float, ctx: ssl.SSLContext | None
) -> urllib3.HTTPConnectionPool:
    """A pool on the checked address; for https, SNI and the certificate check use the name."""
    if scheme == "http":
        return urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    return urllib3.HTTPSConnectionPool(
        address,
        port,
        server_hostname=host,
        assert_hostname=host,
        cert_reqs="CERT_REQUIRED",
        ssl_context=ctx or ssl.create_default_context(),
        timeout=timeout,
        retries=False,
    )


def webhook_post(
    *,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    public_only: bool = True,
    resolver: Resolver = system_resolver,
    ssl_context: ssl.SSLContext | None = None,
) -> int:
    """POST body to url at the checked address; returns the status (3xx is not followed)."""
    address, port, host = webhook_target(url=url, resolver=resolver, public_only=public_only)
    parts = urlsplit(url)
    pool = _pinned_pool(scheme=parts.scheme, address=address, port=port, host=host, timeout=timeout, ctx=ssl_context)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = host if parts.port is None else f"{host}:{port}"
    try:
        response = pool.urlopen(
            "POST", target, body=body, headers={**headers, "Host": host_header}, redirect=False, retries=False
        )
    finally:
        pool.close()
    return response.status


# What delivery uses; tests swap these (the machine has no public DNS, the receiver a test CA).
webhook_resolver: Resolver = system_resolver
webhook_ssl_context: ssl.SSLContext | None = None
