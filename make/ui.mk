# Web interface targets; included from the main Makefile (`-include make/*.mk`).
VENV ?= .venv
UI_SCREENSHOT_DIR ?= docs/screenshots

.PHONY: screenshots test-browser

# Refresh docs/screenshots/*.png: the browser tests drive headless Chromium against a
# simulator-fed server and save a screenshot of every page (needs Debian's chromium and Redis).
screenshots: install-dev
	@mkdir -p $(UI_SCREENSHOT_DIR)
	UI_SCREENSHOT_DIR=$(abspath $(UI_SCREENSHOT_DIR)) $(VENV)/bin/pytest -q -s -m browser tests/ui
	@ls -1 $(UI_SCREENSHOT_DIR)/*.png

test-browser: install-dev
	$(VENV)/bin/pytest -q -s -m browser tests/ui
