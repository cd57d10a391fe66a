"""``manage.py indicators --csv FILE [--json]``: indicators of a candle file, per candle."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.market.indicators.csvio import CandleFileError, format_csv, format_json_lines, read_candle_csv
from apps.market.indicators.engine import IndicatorState


class Command(BaseCommand):
    help = (
        "Read candles (CSV, plain or .gz, header open_time_ms,open,high,low,close,volume) and print "
        "open_time_ms,rsi,macd,macd_signal,macd_hist,bb_upper,bb_middle,bb_lower per candle from the "
        "incremental engine (RSI 14, MACD 12/26/9, BB 20/2). Values are empty (null) during warm-up."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", required=True, dest="csv_path", help="candle file")
        parser.add_argument("--json", action="store_true", help="JSON lines instead of CSV")

    def handle(self, *args: object, **options: object) -> None:
        try:
            bars = read_candle_csv(str(options["csv_path"]))
        except CandleFileError as exc:
            # Validated in full before printing: a bad file prints nothing on stdout.
            raise CommandError(f"{options['csv_path']}: {exc}") from exc
        values = list(IndicatorState().run(bars))
        lines = format_json_lines(values) if options["json"] else format_csv(values)
        self.stdout.write("\n".join(lines))
