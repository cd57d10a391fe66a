"""Live market-data feeds: pure protocol parsers, the hub, exchange adapters and the runner.

Pure modules (no ORM): ``symbols``, ``binance_parse``, ``kucoin_parse``, ``hub``, ``backoff``.
"""
