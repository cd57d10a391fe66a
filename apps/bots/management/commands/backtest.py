"""python manage.py backtest --strategy NAME --params JSON (--csv FILE | --symbol S ...) [--json]"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.bots.backtest import BookWalkFillModel, backtest_run, load_csv
from apps.bots.strategies import ParamsInvalid, strategy_names
from apps.market.feeds.symbols import TIMEFRAME_MS


def _json_arg(value: str, name: str) -> dict[str, Any]:
    try:
        data = json.loads(value or "{}")
    except json.JSONDecodeError as exc:
        raise CommandError(f"--{name}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError(f"--{name}: must be a JSON object")
    return data


class Command(BaseCommand):
    help = "Backtest a strategy over a candle CSV (open_time_ms,open,high,low,close,volume; .gz ok) or stored candles."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--strategy", required=True, choices=strategy_names())
        parser.add_argument("--params", default="{}", help="strategy parameters as JSON, e.g. '{\"period\": 14}'")
        parser.add_argument("--risk", default="{}", help='risk settings as JSON, e.g. \'{"order_size": "100"}\'')
        parser.add_argument("--csv", help="candle CSV file")
        parser.add_argument("--exchange", default="binance", help="with --symbol: stored candles")
        parser.add_argument("--symbol", help="stored candles of this symbol instead of --csv")
        parser.add_argument("--timeframe", default="1m", choices=sorted(TIMEFRAME_MS))
        parser.add_argument("--initial-quote", default="10000")
        parser.add_argument("--fee-rate", default="0.001", help="taker fee rate")
        parser.add_argument("--json", action="store_true", help="print the full report as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        bars, timeframe_ms = self._bars(opts)
        try:
            initial = Decimal(opts["initial_quote"])
            fee = Decimal(opts["fee_rate"])
        except InvalidOperation:
            raise CommandError("--initial-quote and --fee-rate must be decimal numbers") from None
        from apps.portfolio.fills import FeeSchedule

        try:
            report = backtest_run(
                strategy=opts["strategy"],
                params=_json_arg(opts["params"], "params"),
                bars=bars,
                risk=_json_arg(opts["risk"], "risk"),
                initial_quote=initial,
                fill_model=BookWalkFillModel(fees=FeeSchedule(maker_rate=fee, taker_rate=fee)),
                timeframe_ms=timeframe_ms,
            )
        except ParamsInvalid as exc:
            raise CommandError(f"invalid parameters: {exc.errors}") from None
        if opts["json"]:
            self.stdout.write(json.dumps(report.to_json(), indent=2))
            return
        self._summary(report)

    def _bars(self, opts: dict[str, Any]) -> tuple[list, int | None]:
        if opts["csv"]:
            try:
                return load_csv(opts["csv"]), None
            except OSError as exc:
                raise CommandError(f"--csv: {exc}") from None
        if not opts["symbol"]:
            raise CommandError("give --csv FILE or --symbol SYMBOL (stored candles)")
        from apps.bots.selectors import candle_bars

        bars = candle_bars(exchange=opts["exchange"], symbol=opts["symbol"].upper(), timeframe=opts["timeframe"])
        if not bars:
            raise CommandError("no stored candles for that exchange/symbol/timeframe")
        return bars, TIMEFRAME_MS[opts["timeframe"]]

    def _summary(self, report: Any) -> None:
        self.stdout.write(f"{report.strategy} {report.params} over {report.candles} candles")
        for key, value in report.metrics.items():
            self.stdout.write(f"  {key:>18}: {value}")
        self.stdout.write(f"  {'final_equity':>18}: {report.final_equity}")
        self.stdout.write(f"  {'trade_hash':>18}: {report.trade_hash}")
        if report.killed:
            self.stdout.write(f"  stopped early: {report.killed}")
        for trade in report.trades[:10]:
            self.stdout.write(
                f"  {trade.open_time_ms} {trade.side:4} {trade.quantity} @ {trade.price} fee {trade.fee} {trade.reason}"
            )
        if len(report.trades) > 10:
            self.stdout.write(f"  ... {len(report.trades) - 10} more trades (use --json)")
