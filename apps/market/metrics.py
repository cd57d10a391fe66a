"""Prometheus metrics of the market feeds (names prefixed ptp_)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

market_messages = Counter("ptp_market_messages_total", "Market messages received", ["exchange", "stream"])
market_malformed = Counter("ptp_market_malformed_total", "Frames that could not be parsed", ["exchange"])
feed_lag_seconds = Gauge("ptp_market_feed_lag_seconds", "Now minus the newest event timestamp", ["exchange"])
feed_reconnects = Counter("ptp_market_feed_reconnects_total", "Feed reconnections", ["exchange"])
feed_connected = Gauge("ptp_market_feed_connected", "1 when the feed is streaming", ["exchange"])
candles_closed = Counter("ptp_market_candles_closed_total", "Closed candles persisted", ["exchange", "timeframe"])
rest_weight = Gauge("ptp_market_rest_used_weight", "Last reported REST weight/limit usage", ["exchange"])
rate_limited = Counter("ptp_market_rate_limited_total", "REST 429/418 responses", ["exchange"])
feed_restarts = Counter("ptp_market_feed_restarts_total", "Feeds restarted by the watchdog", ["exchange"])
book_resyncs = Counter("ptp_market_book_resyncs_total", "Local order books dropped on a sequence gap", ["exchange"])
