"""API keys, request signatures and trading-endpoint tripwires (pure apart from the log file)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .symbols import BINANCE

BINANCE_READ_ONLY = {
    "ipRestrict": False,
    "enableReading": True,
    "enableWithdrawals": False,
    "enableInternalTransfer": False,
    "enableMargin": False,
    "enableFutures": False,
    "permitsUniversalTransfer": False,
    "enableVanillaOptions": False,
    "enableFixApiTrade": False,
    "enableFixReadOnly": False,
    "enableSpotAndMarginTrading": False,
    "enablePortfolioMarginTrading": False,
}


class SignatureError(Exception):
    def __init__(self, code: int | str, msg: str, status: int) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


@dataclass
class ApiKey:
    exchange: str
    key: str
    secret: str
    passphrase: str | None
    permissions: dict[str, bool] | str
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000))


class KeyStore:
    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], ApiKey] = {}

    def add(self, exchange: str, key: str, secret: str, passphrase: str | None, permissions: object) -> ApiKey:
        if exchange == BINANCE:
            perms: dict[str, bool] | str = {**BINANCE_READ_ONLY, **dict(permissions or {})}  # type: ignore[call-overload]
        elif isinstance(permissions, str):
            perms = permissions
        else:
            perms = ",".join(permissions) if permissions else "General"  # type: ignore[arg-type]
        record = ApiKey(exchange, key, secret, passphrase, perms)
        self._keys[(exchange, key)] = record
        return record

    def get(self, exchange: str, key: str) -> ApiKey | None:
        return self._keys.get((exchange, key))


def binance_verify(keys: KeyStore, *, api_key: str, raw_query: str, body: str, now_ms: int) -> ApiKey:
    """HMAC-SHA256 over the raw query (up to &signature=) + body, as the venue checks it."""
    if not api_key:
        raise SignatureError(-2014, "API-key format invalid.", 401)
    record = keys.get(BINANCE, api_key)
    if record is None:
        raise SignatureError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
    payload = raw_query + body
    match = re.search(r"(^|&)signature=([0-9a-fA-F]+)", payload)
    if match is None:
        raise SignatureError(-1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.", 400)
    signed = payload[: match.start()] + payload[match.end() :]
    expected = hmac.new(record.secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match.group(2).lower()):
        raise SignatureError(-1022, "Signature for this request is not valid.", 400)
    params = dict(p.split("=", 1) for p in signed.split("&") if "=" in p)
    _binance_check_time(params, now_ms)
    return record


def _binance_check_time(params: dict[str, str], now_ms: int) -> None:
    if "timestamp" not in params:
        raise SignatureError(-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.", 400)
    ts = int(params["timestamp"])
    ts = ts // 1000 if ts > 10**14 else ts  # microseconds are accepted too
    window = min(int(params.get("recvWindow", "5000")), 60_000)
    if ts >= now_ms + 1000 or now_ms - ts > window:
        raise SignatureError(-1021, "Timestamp for this request is outside of the recvWindow.", 400)


def kucoin_verify(
    keys: KeyStore, *, headers: dict[str, str], method: str, path_query: str, body: str, now_ms: int
) -> ApiKey:
    api_key = headers.get("KC-API-KEY", "")
    sign = headers.get("KC-API-SIGN", "")
    ts = headers.get("KC-API-TIMESTAMP", "")
    if not api_key or not sign or not ts:
        raise SignatureError(
            "400001",
            "Please check the header of your request for KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE",
            401,
        )
    if not ts.isdigit() or abs(now_ms - int(ts)) > 5000:
        raise SignatureError(
            "400002", "KC-API-TIMESTAMP Invalid -- Time differs from server time by more than 5 seconds", 401
        )
    record = keys.get("kucoin", api_key)
    if record is None:
        raise SignatureError("400003", "KC-API-KEY not exists", 401)
    expected = _b64_hmac(record.secret, ts + method.upper() + path_query + body)
    version = headers.get("KC-API-KEY-VERSION", "1")
    passphrase = _b64_hmac(record.secret, record.passphrase or "") if version in ("2", "3") else record.passphrase
    if not hmac.compare_digest(expected, sign):
        raise SignatureError("400005", "Invalid KC-API-SIGN", 401)
    if not hmac.compare_digest(headers.get("KC-API-PASSPHRASE", ""), passphrase or ""):
        raise SignatureError("400004", "Invalid KC-API-PASSPHRASE", 401)
    return record


def _b64_hmac(secret: str, message: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()).decode()


# -- tripwires ---------------------------------------------------------------------------
_BINANCE_TRIPWIRES = re.compile(  # matched against the lowercased path
    r"^/(api/v3/(order(/test|/oco|/cancelreplace|/amend/keeppriority)?|orderlist(/.*)?|sor/order(/test)?)"
    r"|sapi/v1/(margin/(order(/oco)?|orderlist|transfer|loan|repay|borrow-repay)|capital/withdraw/apply"
    r"|asset/transfer|futures/transfer|sub-account/.*transfer.*|lending/.*|simple-earn/.*/(subscribe|redeem)))$"
)
_KUCOIN_TRIPWIRES = re.compile(
    r"^/api/(v1/(orders|hf/orders|stop-order|margin/order|oco/order|withdrawals|accounts/sub-transfer"
    r"|accounts/inner-transfer|margin/borrow|margin/repay|isolated/borrow)(/.*)?"
    r"|v2/(accounts/inner-transfer|accounts/sub-transfer)|v3/(hf/margin/order|oco/order|margin/borrow"
    r"|margin/repay|accounts/universal-transfer)(/.*)?)$"
)


def is_tripwire(exchange: str, method: str, path: str, *, routed: bool = True) -> bool:
    """Default-deny: a request no route serves (unknown path, wrong method, any case) is a
    tripwire, and so is a known trading path; matching is case-insensitive."""
    if not routed:
        return True
    lowered = path.lower()
    if exchange == BINANCE:
        if lowered == "/api/v3/openorders" and method.upper() == "DELETE":
            return True
        return bool(_BINANCE_TRIPWIRES.match(lowered))
    return bool(_KUCOIN_TRIPWIRES.match(lowered))


class TripwireLog:
    """Every trading-endpoint hit: kept in memory and appended as one JSON line to a file."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        env = os.environ.get("EXCHANGE_SIM_TRIPWIRE_LOG")
        self.path = Path(path) if path else (Path(env) if env else None)
        self.hits: list[dict] = []
        self._lock = threading.Lock()

    def record(self, hit: dict) -> None:
        with self._lock:
            self.hits.append(hit)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(hit, sort_keys=True) + "\n")
