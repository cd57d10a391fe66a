"""Seeded price model (pure numpy, no I/O).

The mid price is a deterministic function of time: a sum of value-noise octaves whose
amplitudes grow with the square root of their period, so moves over any horizon scale like
a random walk's. Being a function of time (not of a path) lets the simulator serve any past
window of klines in O(window) without replaying history, identically for a given seed.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from .thin import flatten_quiet, thin_trade_counts

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_INV53 = 1.0 / (1 << 53)
_OCTAVE_PERIODS_MS = [15_000 * 4**k for k in range(11)]  # 15 s .. ~182 days
MINUTE_MS = 60_000


def stable_key(*parts: object) -> int:
    """A process-independent 63-bit key (``hash()`` of str is salted per process)."""
    return zlib.crc32("|".join(map(str, parts)).encode()) * 2654435761 % (1 << 63)


def hash_uniform(values: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64 of (values + salt) -> uniform floats in [0, 1)."""
    with np.errstate(over="ignore"):
        z = values.astype(np.uint64) + np.uint64(salt % (1 << 64)) * _M1 + _M1
        z = (z ^ (z >> np.uint64(30))) * _M2
        z = (z ^ (z >> np.uint64(27))) * _M3
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * _INV53


def hash_logistic(values: np.ndarray, salt: int) -> np.ndarray:
    """Cheap bell-shaped noise (logistic, unit-ish scale) from a single hash."""
    u = np.clip(hash_uniform(values, salt), 1e-9, 1 - 1e-9)
    return np.log(u / (1.0 - u)) * 0.55


def hash_normal(values: np.ndarray, salt: int) -> np.ndarray:
    """Approximately standard normal (Irwin-Hall of 3 uniforms), deterministic."""
    total = hash_uniform(values, salt) + hash_uniform(values, salt + 1) + hash_uniform(values, salt + 2)
    return (total - 1.5) * 2.0


class PriceModel:
    """log mid(t) = log(anchor) + sum_k amp_k * noise_k(t / period_k)."""

    def __init__(self, *, key: int, anchor: float, daily_vol: float) -> None:
        self.key = key
        self.log_anchor = math.log(anchor)
        sigma_per_min = daily_vol / math.sqrt(1440.0)
        # Long octaves are capped so prices stay near the anchor over years of history.
        self.octaves = [(p, min(sigma_per_min * math.sqrt(p / MINUTE_MS) * 0.8, 0.07)) for p in _OCTAVE_PERIODS_MS]
        self.sigma_per_min = sigma_per_min

    def log_mid(self, t_ms: np.ndarray) -> np.ndarray:
        t = np.asarray(t_ms, dtype=np.int64)
        out = np.full(t.shape, self.log_anchor, dtype=np.float64)
        if t.size == 0:
            return out
        tf = t.astype(np.float64)
        for k, (period, amp) in enumerate(self.octaves):
            salt = self.key + 7919 * k
            lo, hi = int(t.min()) // period, int(t.max()) // period + 1
            if hi - lo + 1 <= 2 * t.size:
                # Few knots for this window (the usual case): hash them all, interpolate in C.
                knots = np.arange(lo, hi + 1, dtype=np.int64)
                out += np.interp(tf, knots.astype(np.float64) * period, hash_normal(knots, salt) * amp)
            else:
                idx = t // period
                frac = (t - idx * period).astype(np.float64) / period
                out += (hash_normal(idx, salt) * (1.0 - frac) + hash_normal(idx + 1, salt) * frac) * amp
        return out

    def mid(self, t_ms: np.ndarray) -> np.ndarray:
        return np.exp(self.log_mid(t_ms))

    def minute_bars(
        self,
        first_minute: int,
        count: int,
        *,
        price_unit: float,
        tick_units: int,
        trades_per_min: float,
        trade_size_units: float,
        thin: bool = False,
        bar_minutes: int = 1,
    ) -> dict[str, np.ndarray]:
        """Deterministic bars of ``bar_minutes`` (1m, or 60 for long history) for ``count`` bars
        from ``first_minute``, in integer price/qty units.

        open(m) == close(m-1) exactly: both are the model at the same instant, so bars of any
        size agree on every open and close at their common boundaries."""
        minutes = first_minute + np.arange(count + 1, dtype=np.int64) * bar_minutes
        edge = self.mid(minutes * MINUTE_MS) / price_unit
        edge = np.maximum(np.rint(edge / tick_units), 1).astype(np.int64) * tick_units
        o, c = edge[:-1], edge[1:]
        m = minutes[:-1]
        sigma = self.sigma_per_min * math.sqrt(bar_minutes)
        trades_per_min *= bar_minutes  # per bar from here on
        if bar_minutes > 1:
            m = m + (1 << 40)  # hash keys of their own: a long bar is not its first minute
        wick = sigma * 0.6
        hi = np.maximum(o, c) * np.exp(np.abs(hash_logistic(m, self.key + 11)) * wick)
        lo = np.minimum(o, c) * np.exp(-np.abs(hash_logistic(m, self.key + 17)) * wick)
        h = np.maximum(np.rint(hi / tick_units).astype(np.int64) * tick_units, np.maximum(o, c))
        low = np.minimum(np.rint(lo / tick_units).astype(np.int64) * tick_units, np.minimum(o, c))
        low = np.maximum(low, tick_units)
        ret = np.abs(np.log(c / o))
        activity = np.exp(0.45 * hash_logistic(m, self.key + 23)) * (1.0 + ret / max(sigma, 1e-9))
        if thin:
            n = thin_trade_counts(m, trades_per_min * activity, hash_uniform(m, self.key + 37))
        else:
            n = np.maximum(np.rint(trades_per_min * activity), 1).astype(np.int64)
        v = np.maximum(np.rint(n * trade_size_units * np.exp(0.3 * hash_logistic(m, self.key + 29))), 1).astype(
            np.int64
        )
        buy_frac = np.clip(0.5 + 0.3 * np.sign(c - o) * hash_uniform(m, self.key + 31), 0.05, 0.95)
        vb = np.rint(v * buy_frac).astype(np.int64)
        vwap = (o + c + h + low) / 4.0
        bars = {
            "minute": minutes[:-1],
            "o": o,
            "h": h,
            "l": low,
            "c": c,
            "v": v,
            "q": v * vwap,
            "n": n,
            "vb": vb,
            "qb": vb * vwap,
        }
        if thin:
            flatten_quiet(bars)
        return bars
