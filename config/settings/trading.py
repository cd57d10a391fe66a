"""Paper-trading safety switches, exchange keys (optional, read-only) and money sizing.

The three switches are read by the safety validator (apps.safety.checks); the product
refuses to start unless they say paper-only.
"""

from __future__ import annotations

from config.env import env_bool, env_int, env_secret, env_str

TRADING_SIMULATION_ONLY = env_str("TRADING_SIMULATION_ONLY", "true")
PAPER_TRADING_MODE = env_str("PAPER_TRADING_MODE", "true")
ALLOW_REAL_TRADES = env_str("ALLOW_REAL_TRADES", "")

# Exchange API keys: optional (public market data needs none). When set they must be
# read-only at the exchange; they are verified at start and daily (apps.safety.keys).
BINANCE_API_KEY = env_secret("BINANCE_API_KEY", "")
BINANCE_API_SECRET = env_secret("BINANCE_API_SECRET", "")
KUCOIN_API_KEY = env_secret("KUCOIN_API_KEY", "")
KUCOIN_API_SECRET = env_secret("KUCOIN_API_SECRET", "")
KUCOIN_API_PASSPHRASE = env_secret("KUCOIN_API_PASSPHRASE", "")
# Verify configured keys against the exchanges during the start-up system checks.
SAFETY_VERIFY_KEYS_AT_START = env_bool("SAFETY_VERIFY_KEYS_AT_START", True)
SAFETY_KEY_CHECK_TIMEOUT_S = env_int("SAFETY_KEY_CHECK_TIMEOUT_S", 5, minimum=1, maximum=60)
# Minimum safety score (percent) to start; every critical check must pass as well.
SAFETY_MIN_SCORE_PERCENT = 90
SAFETY_STATUS_CACHE_SECONDS = env_int("SAFETY_STATUS_CACHE_SECONDS", 10, minimum=0, maximum=3600)

# Decimal column sizing, one place for every money/quantity column (see apps.core.money).
MONEY_MAX_DIGITS = 36
MONEY_DECIMAL_PLACES = 18

from config.settings.celery import CELERY_BEAT_SCHEDULE  # noqa: E402

CELERY_BEAT_SCHEDULE.update(
    {"safety-key-permissions-daily": {"task": "apps.safety.tasks.api_key_check_task", "schedule": 86_400.0}}
)
