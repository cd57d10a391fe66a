"""API key permission validator.

Keys are optional. A configured key must be read-only at the exchange (Binance
/sapi/v1/account/apiRestrictions, KuCoin /api/v1/user/api-key): a key that can trade,
withdraw or transfer refuses start-up, naming the permissions. A key that cannot be
verified (network, bad signature) is reported, not fatal: trading stays paper-only anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger("apps.safety.keys")

STATUS_OK = "read_only"
STATUS_UNSAFE = "trading_enabled"
STATUS_UNVERIFIED = "unverified"
STATUS_NOT_CONFIGURED = "not_configured"
KEY_STATUS_CACHE_KEY = "safety:api_keys"
KEY_STATUS_TTL_SECONDS = 2 * 86_400

# Binance flags that must all be false (docs: wallet/account/api-key-permission).
BINANCE_FORBIDDEN_FLAGS = (
    "enableSpotAndMarginTrading",
    "enableWithdrawals",
    "enableInternalTransfer",
    "permitsUniversalTransfer",
    "enableMargin",
    "enableFutures",
    "enableVanillaOptions",
    "enablePortfolioMarginTrading",
    "enableFixApiTrade",
)
# KuCoin: "General" is read-only; everything else can trade, lend or move money.
KUCOIN_READ_ONLY = frozenset({"general"})


@dataclass(frozen=True)
class KeyCheck:
    exchange: str
    status: str
    permissions: tuple[str, ...] = ()
    message: str = ""

    @property
    def fatal(self) -> bool:
        return self.status == STATUS_UNSAFE

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "permissions": list(self.permissions)}


def binance_offending_permissions(restrictions: Mapping[str, Any]) -> list[str]:
    """The trading/transfer/withdrawal flags that are on (any unknown enable*Trad*/Withdraw*/Transfer* too)."""
    offending = [flag for flag in BINANCE_FORBIDDEN_FLAGS if restrictions.get(flag) is True]
    for flag, value in restrictions.items():
        lowered = flag.lower()
        risky = any(word in lowered for word in ("trad", "withdraw", "transfer", "margin", "futures", "options"))
        if value is True and risky and flag not in offending and flag != "enableFixReadOnly":
            offending.append(flag)
    return offending


def binance_key_judge(restrictions: Mapping[str, Any]) -> KeyCheck:
    offending = binance_offending_permissions(restrictions)
    if offending:
        return KeyCheck(
            "binance",
            STATUS_UNSAFE,
            tuple(offending),
            f"BINANCE_API_KEY can trade/withdraw/transfer: {', '.join(offending)} must be disabled at Binance",
        )
    if restrictions.get("enableReading") is not True:
        return KeyCheck("binance", STATUS_UNVERIFIED, (), "BINANCE_API_KEY: enableReading is not true")
    return KeyCheck("binance", STATUS_OK, ("enableReading",), "BINANCE_API_KEY is read-only")


def kucoin_key_judge(info: Mapping[str, Any]) -> KeyCheck:
    raw = str(info.get("permission", ""))
    permissions = tuple(p.strip() for p in raw.split(",") if p.strip())
    offending = [p for p in permissions if p.lower() not in KUCOIN_READ_ONLY]
    if offending:
        return KeyCheck(
            "kucoin",
            STATUS_UNSAFE,
            tuple(offending),
            f"KUCOIN_API_KEY can trade/withdraw/transfer: permissions {', '.join(offending)} must be removed at KuCoin",
        )
    if not permissions:
        return KeyCheck("kucoin", STATUS_UNVERIFIED, (), "KUCOIN_API_KEY: the exchange returned no permission")
    return KeyCheck("kucoin", STATUS_OK, permissions, "KUCOIN_API_KEY is read-only (General)")


def _unverified(exchange: str, exc: BaseException) -> KeyCheck:
    text = str(exc)[:300]
    return KeyCheck(exchange, STATUS_UNVERIFIED, (), f"{exchange.upper()}_API_KEY could not be verified: {text}")


async def binance_key_check(*, rest_url: str, ws_url: str, api_key: str, api_secret: str, timeout: float) -> KeyCheck:
    from apps.safety.factory import binance_market_client

    if not api_key and not api_secret:
        return KeyCheck("binance", STATUS_NOT_CONFIGURED, (), "no Binance key configured")
    client = None
    try:
        async with asyncio.timeout(timeout):
            client = await binance_market_client(
                rest_url=rest_url, ws_url=ws_url, api_key=api_key, api_secret=api_secret
            )
            return binance_key_judge(await client.api_permissions())
    except Exception as exc:  # network, bad signature, timeout: reported, never fatal
        return _unverified("binance", exc)
    finally:
        if client is not None:
            await client.close()


def kucoin_key_check(*, rest_url: str, api_key: str, api_secret: str, passphrase: str, timeout: float) -> KeyCheck:
    from apps.safety.factory import kucoin_market_client

    if not (api_key or api_secret or passphrase):
        return KeyCheck("kucoin", STATUS_NOT_CONFIGURED, (), "no KuCoin key configured")
    client = kucoin_market_client(rest_url=rest_url, api_key=api_key, api_secret=api_secret, passphrase=passphrase)
    try:
        info = client.api_key_info()
        return kucoin_key_judge(info if isinstance(info, Mapping) else {})
    except Exception as exc:  # network, bad signature: reported, never fatal
        return _unverified("kucoin", exc)
    finally:
        client.close()


def _run_async(coro: Any) -> Any:
    """Run ``coro`` to completion from sync code, even if this thread has a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def api_keys_verify(
    *,
    binance_rest_url: str,
    binance_ws_url: str,
    kucoin_rest_url: str,
    binance_api_key: str = "",
    binance_api_secret: str = "",
    kucoin_api_key: str = "",
    kucoin_api_secret: str = "",
    kucoin_api_passphrase: str = "",
    timeout: float = 5.0,
) -> list[KeyCheck]:
    """Verify both exchanges' keys (sync). Never raises for network or signature trouble."""
    binance = _run_async(
        binance_key_check(
            rest_url=binance_rest_url,
            ws_url=binance_ws_url,
            api_key=binance_api_key,
            api_secret=binance_api_secret,
            timeout=timeout,
        )
    )
    kucoin = kucoin_key_check(
        rest_url=kucoin_rest_url,
        api_key=kucoin_api_key,
        api_secret=kucoin_api_secret,
        passphrase=kucoin_api_passphrase,
        timeout=timeout,
    )
    return [binance, kucoin]


def api_keys_check_configured() -> list[KeyCheck]:
    """Verify the keys in settings, record the result (cache, audit for problems, alert for
    trade-enabled keys) and return it."""
    from django.conf import settings

    results = api_keys_verify(
        binance_rest_url=settings.BINANCE_REST_URL,
        binance_ws_url=settings.BINANCE_WS_URL,
        kucoin_rest_url=settings.KUCOIN_REST_URL,
        binance_api_key=settings.BINANCE_API_KEY,
        binance_api_secret=settings.BINANCE_API_SECRET,
        kucoin_api_key=settings.KUCOIN_API_KEY,
        kucoin_api_secret=settings.KUCOIN_API_SECRET,
        kucoin_api_passphrase=settings.KUCOIN_API_PASSPHRASE,
        timeout=float(settings.SAFETY_KEY_CHECK_TIMEOUT_S),
    )
    api_key_status_record(results=results)
    return results


def api_key_status_record(*, results: list[KeyCheck]) -> None:
    from django.core.cache import cache

    from apps.safety.violations import LAYER_KEYS, violation_refuse

    payload = {"checked_at": datetime.now(tz=UTC).isoformat(), "keys": [r.as_dict() for r in results]}
    try:
        cache.set(KEY_STATUS_CACHE_KEY, payload, KEY_STATUS_TTL_SECONDS)
    except Exception:
        logger.exception("api key status: cache unavailable")
    for result in results:
        if result.fatal:
            violation_refuse(
                layer=LAYER_KEYS,
                message=result.message,
                detail={"exchange": result.exchange, "permissions": list(result.permissions)},
                audit={"exchange": result.exchange, "action": "api_key_trading_enabled", "actor_label": "key-check"},
            )
        elif result.status == STATUS_UNVERIFIED:
            logger.warning("%s", result.message)


def api_key_status_latest() -> dict[str, Any] | None:
    from django.core.cache import cache

    try:
        return cache.get(KEY_STATUS_CACHE_KEY)
    except Exception:
        return None
