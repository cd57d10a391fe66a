"""Which hosts are exchange endpoints, for the process-wide transport guard: the exchanges'
real domains, and every base URL the factory built a client for (a simulator, in tests and in
embedded mode). No Django imports: the simulator forgets its ports here when it stops."""

from __future__ import annotations

from urllib.parse import urlsplit

from apps.safety.rules import BINANCE, KUCOIN

_REAL_DOMAINS = {"binance.com": BINANCE, "binance.vision": BINANCE, "kucoin.com": KUCOIN}
_ENDPOINTS: dict[tuple[str, int], str] = {}
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _key(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    return parts.hostname.lower(), parts.port or _DEFAULT_PORTS.get(parts.scheme, 443)


def exchange_endpoint_register(*, exchange: str, url: str) -> None:
    """Mark a base URL's host and port as an exchange endpoint (the factory calls this)."""
    key = _key(url)
    if key is not None:
        _ENDPOINTS[key] = exchange


def exchange_endpoint_forget(*, url: str) -> None:
    """The endpoint is gone (a simulator stopped): its port may be reused by anything else."""
    key = _key(url)
    if key is not None:
        _ENDPOINTS.pop(key, None)


def exchange_for(*, host: str | None, port: int | None) -> str | None:
    """The exchange a host:port belongs to, or None for anything else."""
    if not host:
        return None
    host = host.lower().rstrip(".")
    if port is not None and (host, port) in _ENDPOINTS:
        return _ENDPOINTS[(host, port)]
    for domain, exchange in _REAL_DOMAINS.items():
        if host == domain or host.endswith("." + domain):
            return exchange
    return None


def exchange_for_url(url: str) -> str | None:
    parts = urlsplit(url)
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        port = None
    return exchange_for(host=parts.hostname, port=port)
