"""Typed environment-variable readers.

Every setting the product reads from the environment goes through these helpers, so a bad
value fails at start with a message that names the variable, the expected type and the
value received (secrets are never echoed: see ``env_secret``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvError(ImproperlyConfigured):
    """An environment variable holds a value of the wrong type or shape."""


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_secret(name: str, default: str = "") -> str:
    """A secret, also readable from a file named by ``<NAME>_FILE`` (docker secrets)."""
    file_name = _raw(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise EnvError(f"{name}_FILE: cannot read secret file {file_name!r}: {exc.strerror}") from exc
    return env_str(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise EnvError(f"{name}: expected a boolean (true/false, 1/0, yes/no, on/off), got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise EnvError(f"{name}: expected an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise EnvError(f"{name}: expected an integer >= {minimum}, got {number}")
    if maximum is not None and number > maximum:
        raise EnvError(f"{name}: expected an integer <= {maximum}, got {number}")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise EnvError(f"{name}: expected a number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise EnvError(f"{name}: expected a number >= {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_ip_networks(name: str, default: list[str] | None = None) -> list[str]:
    """A comma list of IP addresses or CIDR networks, each checked (``10.0.0.0/8,::1``)."""
    import ipaddress

    items = env_list(name, default)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise EnvError(f"{name}: expected IP addresses or CIDR networks, got {item!r}") from None
    return items


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise EnvError(f"{name}: expected one of {', '.join(choices)}, got {value!r}")
    return value


def env_url(name: str, default: str = "", *, schemes: tuple[str, ...] = ()) -> str:
    value = env_str(name, default)
    if not value:
        return value
    parsed = urlparse(value)
    if not parsed.scheme or (schemes and parsed.scheme not in schemes):
        expected = ", ".join(f"{s}://" for s in schemes) or "a URL"
        raise EnvError(f"{name}: expected {expected}, got {mask_url(value)!r}")
    return value


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***, for messages and logs."""
    parsed = urlparse(url)
    if parsed.password:
        netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
        return parsed._replace(netloc=netloc).geturl()
    return url


def database_from_url(name: str, url: str) -> dict[str, Any]:
    """Django DATABASES entry from a postgres:// or sqlite:/// URL (values of mixed types:
    settings.py adds ints and bools to it)."""
    parsed = urlparse(url)
    if parsed.scheme in ("postgres", "postgresql", "pgsql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
        }
    if parsed.scheme == "sqlite":
        path = parsed.path[1:] if url.startswith("sqlite:///") else parsed.path
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path or str(BASE_DIR / "db.sqlite3")}
    raise EnvError(f"{name}: expected postgres:// or sqlite:/// URL, got {mask_url(url)!r}")
