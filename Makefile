# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export NO_PROXY := 127.0.0.1,localhost
export no_proxy := 127.0.0.1,localhost
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test venv install install-dev migrate lint format typecheck bench screenshots smoke clean help

help:
	@echo "make run    - set up and serve the product on http://127.0.0.1:8000 (embedded mode)"
	@echo "make test   - run the whole test suite (Postgres/Redis/RabbitMQ at env URLs or loopback)"
	@echo "make lint   - ruff lint + format check + import layers; make typecheck - mypy on services/selectors"
	@echo "make bench  - run every benchmark in quick mode; make bench-full for the full figures"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Re-install only when a requirements file changed (stamp files), so `make run` twice is fast.
$(VENV)/.installed-base: requirements/base.txt | $(PY)
	$(PIP) install --quiet -r requirements/base.txt
	@touch $@

$(VENV)/.installed-dev: requirements/dev.txt requirements/base.txt | $(PY)
	$(PIP) install --quiet -r requirements/dev.txt
	@touch $(VENV)/.installed-base $@

install: $(VENV)/.installed-base
install-dev: $(VENV)/.installed-dev

migrate: install
	@mkdir -p staticfiles
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py ensure_demo_user
	$(PY) manage.py serve --host 127.0.0.1 --port $${PORT:-8000}

# The order, ledger and bot tests run a second time on SQLite (the embedded mode's database),
# so both databases' write paths are proven in every run.
SQLITE_TESTS := tests/portfolio tests/core/test_money_db.py tests/bots tests/api/test_portfolio_api.py tests/api/test_exit_orders_api.py \
	tests/api/test_portfolio_admin_api.py tests/api/test_bots_api.py tests/safety/test_guard.py \
	tests/safety/test_audit.py tests/market/test_services.py

test: install-dev
	$(VENV)/bin/pytest
	TEST_DB_ENGINE=sqlite $(VENV)/bin/pytest $(SQLITE_TESTS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: install-dev
	$(VENV)/bin/mypy $(sort $(wildcard apps/*/services.py apps/*/selectors.py apps/*/services/*.py apps/*/services/*/*.py \
		apps/*/*/services.py apps/*/*/selectors.py))

bench: install-dev
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b --quick || exit 1; done

bench-full: install-dev
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache

-include make/*.mk
