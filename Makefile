# One-command entry points. `make test` is what CI runs (.ci/run calls it and nothing else).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SDK_DIR := .cache/avisdk

SLACK_MANIFEST ?= .cache/slack/manifest.yaml
TEAMS_PACKAGE ?= .cache/teams/avibot-teams.zip

.PHONY: test lint bench sim install install-run sdk redis chromium demo slack-manifest teams-package clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# What running avibot needs (the demo, the simulator, the app manifests): the project alone.
$(VENV)/.installed-run: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

# What the tests and linters need too: the `dev` extra (pytest, Playwright, ruff, mypy, jsonschema).
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-run

# The official Avi SDK installs a top-level package named `avi` (as ours does), so it lives in
# its own folder and is only ever used by subprocesses whose PYTHONPATH holds that folder alone.
$(SDK_DIR)/.installed: requirements-sdk.txt $(BIN)/python
	rm -rf $(SDK_DIR)
	$(BIN)/pip install --quiet --target $(SDK_DIR) -r requirements-sdk.txt
	touch $@

install: $(VENV)/.installed

install-run: $(VENV)/.installed-run

# The tests start their own throwaway redis-server from PATH; this makes sure there is one.
redis:
	@bash scripts/ensure-redis.sh

# Headless Chromium for the real-browser test (Debian's package, installed as root; skipped loudly elsewhere).
chromium:
	@bash scripts/ensure-chromium.sh

sdk: $(SDK_DIR)/.installed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install sdk redis chromium shipping-tools
	$(BIN)/ruff check .
	$(BIN)/mypy
	AVIBOT_SDK_PATH=$(CURDIR)/$(SDK_DIR) $(BIN)/pytest -q

bench: install redis
	$(BIN)/python -m bench.avi
	$(BIN)/python -m bench.agent
	$(BIN)/python -m bench.web
	$(BIN)/python -m bench.slack
	$(BIN)/python -m bench.answers

# The README's first command: a working assistant in the browser, no Ollama or Redis needed.
demo: install-run
	@echo "avibot demo: open http://127.0.0.1:8080 (Ctrl+C to stop)"
	$(BIN)/avibot serve --demo --alert-every 120

# The Slack app manifest (HTTP mode) to paste: SLACK_PUBLIC_URL=https://bot.example.com make slack-manifest
slack-manifest: install-run
	@$(BIN)/python scripts/slack_manifest.py --out $(SLACK_MANIFEST)

# The Teams app package to upload: TEAMS_APP_ID=<Azure app id> TEAMS_BOT_DOMAIN=host make teams-package
# (optional: TEAMS_DEVELOPER_NAME, TEAMS_DEVELOPER_URL, TEAMS_PRIVACY_URL, TEAMS_TERMS_URL, ...;
# see scripts/teams_package.py)
teams-package: install-run
	@$(BIN)/python scripts/teams_package.py --out $(TEAMS_PACKAGE)

sim: install-run
	$(BIN)/avibot sim

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache

# Image, compose, Helm and Prometheus checks and the image test: shipping.mk.
include shipping.mk
