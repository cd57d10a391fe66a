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
