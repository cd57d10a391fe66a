"""Market data: which exchanges, which symbols, live or simulated."""

from __future__ import annotations

from config.env import env_choice, env_int, env_list, env_url

# auto: stream from the real exchanges when reachable, else start the simulator in-process.
MARKET_SOURCE = env_choice("MARKET_SOURCE", "auto", ("auto", "live", "sim"))
MARKET_SYMBOLS = env_list("MARKET_SYMBOLS", ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT"])
MARKET_TIMEFRAMES = ["1m", "5m", "15m", "1h", "4h", "1d"]
MARKET_BACKFILL_CANDLES = env_int("MARKET_BACKFILL_CANDLES", 500, minimum=0, maximum=5000)
MARKET_RETENTION_DAYS = env_int("MARKET_RETENTION_DAYS", 365, minimum=1)

BINANCE_REST_URL = env_url("BINANCE_REST_URL", "https://api.binance.com", schemes=("http", "https"))
BINANCE_WS_URL = env_url("BINANCE_WS_URL", "wss://stream.binance.com:9443/", schemes=("ws", "wss"))
KUCOIN_REST_URL = env_url("KUCOIN_REST_URL", "https://api.kucoin.com", schemes=("http", "https"))

# Simulator ports for `make run` when offline (0 picks a free port).
SIMULATOR_BINANCE_PORT = env_int("SIMULATOR_BINANCE_PORT", 0, minimum=0, maximum=65535)
SIMULATOR_KUCOIN_PORT = env_int("SIMULATOR_KUCOIN_PORT", 0, minimum=0, maximum=65535)
SIMULATOR_SEED = env_int("SIMULATOR_SEED", 42)

# --- feeds (engineer "feeds") ---
# KuCoin's WS endpoint comes from its bullet-public reply; only the REST base is configured.
MARKET_PUSH_HZ = env_int("MARKET_PUSH_HZ", 4, minimum=1, maximum=20)  # coalesced pushes per symbol
MARKET_CACHE_FLUSH_MS = env_int("MARKET_CACHE_FLUSH_MS", 200, minimum=20, maximum=5000)
MARKET_RECENT_TRADES = env_int("MARKET_RECENT_TRADES", 50, minimum=1, maximum=1000)
MARKET_PROBE_TIMEOUT_S = env_int("MARKET_PROBE_TIMEOUT_S", 3, minimum=1, maximum=30)
# The one feed-staleness setting: a stream silent this long reconnects and readiness calls the
# feed stale; a feed silent 3x this long is restarted and shown as down (no heartbeat).
MARKET_FEED_STALE_S = env_int("MARKET_FEED_STALE_S", 5, minimum=1, maximum=600)
MARKET_RECONNECT_MAX_S = env_int("MARKET_RECONNECT_MAX_S", 30, minimum=1, maximum=600)
MARKET_LEASE_TTL_S = env_int("MARKET_LEASE_TTL_S", 15, minimum=2, maximum=600)
MARKET_WS_QUEUE_SIZE = env_int("MARKET_WS_QUEUE_SIZE", 5000, minimum=100, maximum=1_000_000)
# REST pacing: never more than this many calls per second per exchange.
MARKET_REST_MAX_RPS = env_int("MARKET_REST_MAX_RPS", 10, minimum=1, maximum=1000)
# A closed candle is re-read from REST this long (exchange ms) after its close before it counts as final.
MARKET_GAP_GRACE_MS = env_int("MARKET_GAP_GRACE_MS", 2000, minimum=0, maximum=600_000)

from config.settings.celery import CELERY_BEAT_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE.update(
    {
        "market-feed-watchdog": {"task": "apps.market.tasks.feed_watchdog_task", "schedule": 5.0},
        "market-gap-backfill": {"task": "apps.market.tasks.gap_backfill_task", "schedule": 300.0},
        "market-instrument-sync": {"task": "apps.market.tasks.instrument_sync_task", "schedule": 86_400.0},
        "market-retention": {"task": "apps.market.tasks.candle_retention_task", "schedule": 3_600.0},
    }
)
