"""Paper-trading safety switches and money sizing.

These three variables are read by the safety validator (apps.safety.checks); the product
refuses to start unless they say paper-only.
"""

from __future__ import annotations

from config.env import env_str

TRADING_SIMULATION_ONLY = env_str("TRADING_SIMULATION_ONLY", "true")
PAPER_TRADING_MODE = env_str("PAPER_TRADING_MODE", "true")
ALLOW_REAL_TRADES = env_str("ALLOW_REAL_TRADES", "")

# Decimal column sizing, one place for every money/quantity column (see apps.core.money).
MONEY_MAX_DIGITS = 36
MONEY_DECIMAL_PLACES = 18
