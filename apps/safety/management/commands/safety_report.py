"""`python manage.py safety_report [--json]`: every safety check, its result and weight,
the score; exit code 0 only when the environment is safe."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Report every paper-trading safety check and the safety score; exit 0 only when safe."
    # The report must run precisely when the system checks would refuse start-up.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--verify-keys", action="store_true", help="verify configured exchange keys now")

    def handle(self, *args: Any, **options: Any) -> None:
        from apps.safety.keys import STATUS_UNSAFE, api_keys_check_configured
        from apps.safety.selectors import safety_status_compute

        keys = [k.as_dict() for k in api_keys_check_configured()] if options["verify_keys"] else None
        status = safety_status_compute()
        if keys is not None:
            status["api_keys"] = {"keys": keys}
            status["ok"] = status["ok"] and all(k["status"] != STATUS_UNSAFE for k in keys)
        if options["json"]:
            self.stdout.write(json.dumps(status, default=str))
        else:
            self._print(status)
        if not status["ok"]:
            sys.exit(1)

    def _print(self, status: dict[str, Any]) -> None:
        self.stdout.write(f"{'CHECK':<24} {'RESULT':<8} {'WEIGHT':>6} {'CRIT':<5} DETAIL")
        for check in status["checks"]:
            result = "n/a" if not check["applicable"] else ("PASS" if check["passed"] else "FAIL")
            detail = check["message"] or check["actual"]
            self.stdout.write(
                f"{check['name']:<24} {result:<8} {check['weight']:>6} {'yes' if check['critical'] else 'no':<5} {detail}"
            )
        for key in (status.get("api_keys") or {}).get("keys", []):
            self.stdout.write(f"api key {key['exchange']:<16} {key['status']:<16} {key['message']}")
        verdict = "SAFE" if status["ok"] else "UNSAFE: start-up refused"
        style = self.style.SUCCESS if status["ok"] else self.style.ERROR
        self.stdout.write(style(f"score {status['score']:.2f}% (minimum {status['min_score']:.0f}%) -> {verdict}"))
