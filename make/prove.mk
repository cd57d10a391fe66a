# Evidence targets (issue 11); included from the main Makefile.
VENV ?= .venv
SOAK_MINUTES ?= 10
SOAK_LONG_MINUTES ?= 60

.PHONY: smoke soak soak-long bench-full-report

# The whole product against the simulator, workflow walked over HTTP/WS; exits 0 when green.
smoke: install-dev
	$(VENV)/bin/python bench/support/smoke.py

# Full soak: RSS slope per process under simulated market + bot activity.
soak: install-dev
	$(VENV)/bin/python bench/soak.py --minutes $(SOAK_MINUTES)

# make run's embedded mode (simulator inside serve) for an hour, every stream sampled:
# silent periods over 10 s, missed 1m closes, RSS slope; one JSON object last (docs/OPERATIONS.md).
soak-long: install-dev
	$(VENV)/bin/python bench/soak.py --embedded --minutes $(SOAK_LONG_MINUTES)

# Every benchmark in full mode, one at a time; the JSON lines land in bench-report.jsonl
# (paste them into docs/PERFORMANCE.md).
bench-full-report: install-dev
	@: > bench-report.jsonl
	@set -o pipefail; for b in bench/*.py; do echo "== $$b"; $(VENV)/bin/python $$b | tee /dev/stderr | tail -1 >> bench-report.jsonl || exit 1; done
	@echo "figures in bench-report.jsonl"
