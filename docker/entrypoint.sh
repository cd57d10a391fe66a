#!/bin/sh
# Starts one process of the platform. Usage: entrypoint.sh web|worker|beat|feeds|monitor|manage ...
set -eu

role="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$role" in
  web)
    export PROCESS_ROLE=web
    if [ "${MIGRATE_ON_START:-true}" = "true" ]; then
      python manage.py migrate --noinput
    fi
    # No --proxy-headers: daphne would take the first (client-written) X-Forwarded-For entry as
    # the client. The app resolves it by the trusted-proxy rule instead (apps/core/client_ip.py).
    exec daphne -b 0.0.0.0 -p "${PORT:-8000}" config.asgi:application
    ;;
  worker)
    export PROCESS_ROLE=worker
    # Prefork children write metric files here; the exporter on METRICS_PORT sums them.
    if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
      mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
      find "$PROMETHEUS_MULTIPROC_DIR" -type f -name '*.db' -delete
    fi
    exec celery -A config worker --loglevel "${LOG_LEVEL:-info}" --concurrency "${CELERY_CONCURRENCY:-2}" "$@"
    ;;
  beat)
    export PROCESS_ROLE=beat
    exec celery -A config beat --loglevel "${LOG_LEVEL:-info}" \
      -S django_celery_beat.schedulers:DatabaseScheduler --pidfile /tmp/celerybeat.pid "$@"
    ;;
  feeds)
    export PROCESS_ROLE=feeds
    exec python manage.py run_feeds "$@"
    ;;
  monitor)
    # One per deployment: alerts when Postgres, Redis or the broker is down (apps.ops.monitor).
    export PROCESS_ROLE=monitor
    exec python manage.py monitor_dependencies --heartbeat-file /tmp/ptp-monitor.alive "$@"
    ;;
  manage)
    exec python manage.py "$@"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
