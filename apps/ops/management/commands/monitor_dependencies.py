"""The monitor process: alert when Postgres, Redis or the broker goes down, and when it is back.

python manage.py monitor_dependencies [--once] [--heartbeat-file PATH]

Run exactly one per deployment (the outage state is in memory: two would both alert).
Logic in apps.ops.monitor; thresholds ALERT_DEPENDENCY_*.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection

from apps.ops.monitor import dependency_monitor_check, dependency_monitor_create


class Command(BaseCommand):
    help = "Probe Postgres, Redis and the broker in a loop; alert on outages and resolve on recovery."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then exit")
        parser.add_argument("--heartbeat-file", default="", help="touched every round (the container health check)")

    def handle(self, *args: Any, **opts: Any) -> None:
        if connection.vendor == "postgresql":
            # Without it a connection to an unreachable host waits for the OS TCP timeout
            # (minutes), and the loop would stall inside the outage it should report.
            connection.settings_dict.setdefault("OPTIONS", {}).setdefault(
                "connect_timeout", settings.HEALTH_PROBE_TIMEOUT
            )
        monitor = dependency_monitor_create()
        if not monitor.probes:
            self.stdout.write("no external dependency configured (embedded mode): nothing to monitor")
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        heartbeat = Path(opts["heartbeat_file"]) if opts["heartbeat_file"] else None
        self.stdout.write(f"monitoring {', '.join(monitor.probes)} every {settings.ALERT_DEPENDENCY_CHECK_SECONDS:g}s")
        self.stdout.flush()
        while True:
            close_old_connections()
            for event in dependency_monitor_check(monitor=monitor):
                self.stdout.write(f"{event.state}: {event.dependency} ({event.detail})")
                self.stdout.flush()
            if heartbeat is not None:
                heartbeat.touch()
            if opts["once"] or stop.wait(settings.ALERT_DEPENDENCY_CHECK_SECONDS):
                break
        self.stdout.write("monitor stopped")
