"""Paper trading engine: matcher placement and the equity snapshot schedule."""

from __future__ import annotations

from datetime import timedelta

from config.env import env_bool, env_choice, env_float, env_int, env_str
from config.settings.celery import CELERY_BEAT_SCHEDULE

# The matcher listens to market events where the feeds run (the feeds process, or the
# single embedded process). Tests drive their own Matcher instances.
PAPER_MATCHER_ENABLED = env_bool("PAPER_MATCHER_ENABLED", env_str("PROCESS_ROLE", "embedded") in ("feeds", "embedded"))
# Paper orders are durable by default: an acknowledged order survives a Postgres crash.
# Set true to commit them without waiting for the WAL flush (synchronous_commit off for the
# order's transaction only, see apps.portfolio.services.fastpath): atomicity is unchanged,
# a database crash may lose the last moments of acknowledged paper orders.
PAPER_ORDER_ASYNC_COMMIT = env_bool("PAPER_ORDER_ASYNC_COMMIT", False)
# Group commit (apps.portfolio.group_commit): orders placed at the same moment by several
# threads of one process share one transaction, up to this many per transaction; 1 turns
# it off (every order its own transaction). Lanes: batches being written at once.
PAPER_ORDER_GROUP_MAX = env_int("PAPER_ORDER_GROUP_MAX", 64, minimum=1)
PAPER_ORDER_GROUP_LANES = env_int("PAPER_ORDER_GROUP_LANES", 2, minimum=1)
# Consumed liquidity (FILL_REALISM rule 2, apps.portfolio.liquidity): shared through Redis
# when the cache is Redis ("auto"), so two processes never fill against one consumed level;
# "memory" keeps it in the process (embedded mode, or a single order-placing process).
PAPER_LIQUIDITY_STORE = env_choice("PAPER_LIQUIDITY_STORE", "auto", ("auto", "redis", "memory"))
# A consumed level is forgotten this long after our last take from it (memory bound).
PAPER_LIQUIDITY_TTL_S = env_float("PAPER_LIQUIDITY_TTL_S", 300.0, minimum=1.0)
PAPER_EQUITY_SNAPSHOT_SECONDS = env_int("PAPER_EQUITY_SNAPSHOT_SECONDS", 60, minimum=5)

CELERY_BEAT_SCHEDULE["portfolio-equity-snapshots"] = {
    "task": "apps.portfolio.tasks.equity_snapshot_all_task",
    "schedule": timedelta(seconds=PAPER_EQUITY_SNAPSHOT_SECONDS),
}
