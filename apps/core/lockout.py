"""Login brute-force lockout, counted per (username, client IP) in the shared cache.

After LOGIN_LOCKOUT_ATTEMPTS failures within LOGIN_LOCKOUT_SECONDS the pair is locked for
LOGIN_LOCKOUT_SECONDS. Keying on the pair (not the username alone) stops an attacker from
locking a victim out from everywhere; the IP part alone is covered by throttling."""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from apps.core.client_ip import client_ip
from apps.core.exceptions import ApplicationError


class LoginLockedError(ApplicationError):
    status = 429
    code = "login_locked"

    def __init__(self, *, retry_after: int):
        minutes = max(1, (retry_after + 59) // 60)
        super().__init__(f"Too many failed login attempts. Try again in {minutes} minute(s).")
        self.retry_after = retry_after


def lockout_ip(request: HttpRequest | None) -> str:
    """The IP part of the lockout key: the client address by the trusted-proxy rule
    (apps/core/client_ip.py), so a forged X-Forwarded-For cannot pick a fresh counter."""
    return client_ip(request) or "-"


def _key(kind: str, username: str, ip: str) -> str:
    # Hashed: usernames are user input and cache keys must be short and safe.
    digest = hashlib.sha256(f"{username.strip().lower()}|{ip}".encode()).hexdigest()[:32]
    return f"lockout:{kind}:{digest}"


def lockout_seconds_left(*, username: str, ip: str) -> int:
    until = cache.get(_key("until", username, ip))
    if until is None:
        return 0
    return max(0, int(until - time.time()) + 1)


def lockout_check(*, username: str, ip: str) -> None:
    left = lockout_seconds_left(username=username, ip=ip)
    if left:
        raise LoginLockedError(retry_after=left)


def lockout_register_failure(*, username: str, ip: str) -> int:
    """Counts one failure; returns the failure count. Locks the pair at the threshold."""
    window = settings.LOGIN_LOCKOUT_SECONDS
    key = _key("fails", username, ip)
    cache.add(key, 0, timeout=window)
    try:
        failures = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        failures = 1
    if failures >= settings.LOGIN_LOCKOUT_ATTEMPTS:
        cache.set(_key("until", username, ip), time.time() + window, timeout=window)
    return failures


def lockout_reset(*, username: str, ip: str) -> None:
    cache.delete_many([_key("fails", username, ip), _key("until", username, ip)])
