"""Consumed liquidity shared by every process through Redis (production).

One key per level, ``<prefix>:<exchange>:<symbol>:<side>:<price>``, holding
"displayed|consumed|version". A take is one Lua script, so it is atomic across processes:
it reads the entry, applies the rule of ``apps.portfolio.liquidity`` (``level_consumed``,
``level_grant``, ``level_after_take``), stores the new entry with the TTL and returns what
it granted. Quantities cross as integers of 1e-18 (the storage precision) in decimal
strings, and the script does its arithmetic on zero-padded digit strings: Lua's numbers are
doubles, which would round a quantity; these never do. ``free_levels`` (a read) is one
MGET for the whole side of the book.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Context, Decimal
from typing import Any

import redis

from apps.core.money import quantize_down as step_down
from apps.market.events import BookSnapshot
from apps.portfolio.liquidity import DEFAULT_TTL_S, LevelEntry, book_version, level_consumed, level_free

_WIDTH = 60  # digits: quantities below 1e42 units of 1e-18
_SCALE = 18
_WIDE = Context(prec=80)

_LUA_DIGITS = """
local W = 60
local ZERO = string.rep('0', W)
local function pad(s) return string.rep('0', W - #s) .. s end
local function add(a, b)
  local out, carry = {}, 0
  for i = W, 1, -1 do
    local d = a:byte(i) + b:byte(i) - 96 + carry
    if d >= 10 then d = d - 10; carry = 1 else carry = 0 end
    out[i] = string.char(48 + d)
  end
  return table.concat(out)
end
local function sub(a, b)
  local out, borrow = {}, 0
  for i = W, 1, -1 do
    local d = a:byte(i) - b:byte(i) - borrow
    if d < 0 then d = d + 10; borrow = 1 else borrow = 0 end
    out[i] = string.char(48 + d)
  end
  return table.concat(out)
end
local function parse(raw)
  local d, c, v = string.match(raw, '^(%d+)|(%d+)|(%d+)$')
  return d, c, v
end
"""

# KEYS[1] level; ARGV displayed, version, cap (displayed rounded down to the step), want, ttl ms.
_TAKE = (
    _LUA_DIGITS
    + """
local displayed, version, cap, want = pad(ARGV[1]), ARGV[2], pad(ARGV[3]), pad(ARGV[4])
local consumed, keep_d, keep_v, refreshed = ZERO, displayed, version, true
local raw = redis.call('GET', KEYS[1])
if raw then
  local d, c, v = parse(raw)
  if d == displayed then
    consumed, refreshed = c, false
    if tonumber(v) > tonumber(version) then keep_v = v end
  elseif tonumber(version) <= tonumber(v) then
    consumed, keep_d, keep_v, refreshed = c, d, v, false
  end
end
local grant = ZERO
if cap > consumed then grant = sub(cap, consumed) end
if want < grant then grant = want end
if grant > ZERO then
  redis.call('SET', KEYS[1], keep_d .. '|' .. add(consumed, grant) .. '|' .. keep_v, 'PX', ARGV[5])
end
return grant
"""
)

# KEYS[1] level; ARGV displayed, quantity. Only an entry for the same displayed size.
_GIVE_BACK = (
    _LUA_DIGITS
    + """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local d, c, v = parse(raw)
if d ~= pad(ARGV[1]) then return 0 end
local q = pad(ARGV[2])
local left = ZERO
if c > q then left = sub(c, q) end
redis.call('SET', KEYS[1], d .. '|' .. left .. '|' .. v, 'KEEPTTL')
return 1
"""
)


def to_units(value: Decimal) -> str:
    """A non-negative quantity as an integer of 1e-18, rounded down (never grants more)."""
    units = value.scaleb(_SCALE, context=_WIDE).to_integral_value(rounding=ROUND_DOWN, context=_WIDE)
    text = str(int(units))
    if units < 0 or len(text) > _WIDTH:
        raise ValueError(f"quantity out of range for the liquidity store: {value}")
    return text


def from_units(text: str | bytes) -> Decimal:
    return Decimal(int(text)).scaleb(-_SCALE, context=_WIDE)


class RedisLiquidity:
    def __init__(
        self, *, url: str | None = None, client: Any = None, ttl_s: float = DEFAULT_TTL_S, prefix: str = "ptp:liq"
    ) -> None:
        self._client = client if client is not None else redis.Redis.from_url(url or "")
        self._ttl_ms = int(ttl_s * 1000)
        self._prefix = prefix
        self._take = self._client.register_script(_TAKE)
        self._give_back = self._client.register_script(_GIVE_BACK)

    def _key(self, book: BookSnapshot, book_side: str, price: Decimal) -> str:
        return f"{self._prefix}:{book.exchange}:{book.symbol}:{book_side}:{price.normalize():f}"

    def free_levels(self, *, book: BookSnapshot, book_side: str) -> list[Decimal]:
        levels = book.asks if book_side == "ask" else book.bids
        if not levels:
            return []
        raws = self._client.mget([self._key(book, book_side, price) for price, _ in levels])
        version = book_version(book)
        return [
            level_free(displayed=displayed, consumed=level_consumed(_entry(raw), displayed=displayed, version=version))
            for (_, displayed), raw in zip(levels, raws, strict=True)
        ]

    def take(
        self,
        *,
        book: BookSnapshot,
        book_side: str,
        price: Decimal,
        displayed: Decimal,
        quantity: Decimal,
        step: Decimal,
    ) -> Decimal:
        args: list[str | int] = [
            to_units(displayed),
            book_version(book),
            to_units(step_down(displayed, step)),
            to_units(quantity),
            self._ttl_ms,
        ]
        granted = from_units(self._take(keys=[self._key(book, book_side, price)], args=args))
        # A grant off the step (only if the step changed since an earlier take) stays consumed.
        return step_down(granted, step)

    def give_back(
        self, *, book: BookSnapshot, book_side: str, price: Decimal, displayed: Decimal, quantity: Decimal
    ) -> None:
        self._give_back(keys=[self._key(book, book_side, price)], args=[to_units(displayed), to_units(quantity)])

    def clear(self) -> None:
        keys = list(self._client.scan_iter(match=f"{self._prefix}:*", count=500))
        if keys:
            self._client.delete(*keys)


def _entry(raw: bytes | None) -> LevelEntry | None:
    if raw is None:
        return None
    displayed, consumed, version = raw.decode().split("|")
    return LevelEntry(displayed=from_units(displayed), consumed=from_units(consumed), version=int(version))
