"""Container health check: GET a local URL, exit 0 on 2xx. No curl in the slim image.

The URL depends on the process: web serves /health/live; worker and feeds serve their
metrics exporter on METRICS_PORT; beat has no port, so its pid file is checked; the
monitor touches a heartbeat file every round, so its age is checked.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.request

MONITOR_HEARTBEAT = "/tmp/ptp-monitor.alive"  # noqa: S108 - written by entrypoint.sh monitor


def target() -> str | None:
    role = os.environ.get("PROCESS_ROLE", "web")
    if role == "web":
        return f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health/live"
    if role in ("worker", "feeds") and os.environ.get("METRICS_PORT", "0") != "0":
        return f"http://127.0.0.1:{os.environ['METRICS_PORT']}/metrics"
    return None


def beat_alive() -> bool:
    try:
        with open("/tmp/celerybeat.pid") as handle:  # noqa: S108 - the pid file beat writes
            os.kill(int(handle.read().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


def monitor_alive() -> bool:
    # A round takes at most a few probe timeouts and deliveries; several missed rounds
    # mean the loop is stuck.
    interval = float(os.environ.get("ALERT_DEPENDENCY_CHECK_SECONDS") or 10)
    try:
        age = time.time() - os.stat(MONITOR_HEARTBEAT).st_mtime
    except OSError:
        return False
    return age < max(60.0, 6 * interval)


def main() -> int:
    if os.environ.get("PROCESS_ROLE") == "beat":
        return 0 if beat_alive() else 1
    if os.environ.get("PROCESS_ROLE") == "monitor":
        return 0 if monitor_alive() else 1
    url = target()
    if url is None:
        return 0
    try:
        with urllib.request.urlopen(url, timeout=4) as response:  # noqa: S310 - loopback URL
            return 0 if 200 <= response.status < 300 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
