#!/bin/sh
# Renders monitoring/alertmanager.yml's ${VAR} placeholders from the environment (busybox
# sed: the alertmanager image has no envsubst), then starts Alertmanager.
set -eu
: "${ALERTMANAGER_SMTP_SMARTHOST:?}" "${ALERTMANAGER_SMTP_FROM:?}" "${ALERT_EMAIL_TO:?}" "${ALERTMANAGER_WEBHOOK_URL:?}"
sed -e "s|\${ALERTMANAGER_SMTP_SMARTHOST}|${ALERTMANAGER_SMTP_SMARTHOST}|g" \
    -e "s|\${ALERTMANAGER_SMTP_FROM}|${ALERTMANAGER_SMTP_FROM}|g" \
    -e "s|\${ALERT_EMAIL_TO}|${ALERT_EMAIL_TO}|g" \
    -e "s|\${ALERTMANAGER_WEBHOOK_URL}|${ALERTMANAGER_WEBHOOK_URL}|g" \
    /etc/alertmanager/alertmanager.yml.tmpl > /tmp/alertmanager.yml
exec /bin/alertmanager --config.file=/tmp/alertmanager.yml --storage.path=/alertmanager "$@"
