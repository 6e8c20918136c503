# Two commands do everything on a fresh machine:
#   make demo   — set up, then replay the story on an embedded SQLite store
#   make test   — set up (PostgreSQL, Chromium included), then run the whole suite
SHELL  := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
SUM    := $(shell cksum pyproject.toml | cut -d' ' -f1)
RUN_OK  = $(VENV)/.run-$(SUM)
DEV_OK  = $(VENV)/.dev-$(SUM)

.PHONY: demo test setup lint typecheck unit e2e services bench serve-demo screenshots clean oidc-provider

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# What the demo and the service need (the demo ends with a memorisation audit: nltk, scipy).
$(RUN_OK): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e '.[service,fast,audit]'
	touch $@

# Everything the suite needs (Spark, Playwright, spaCy, Hypothesis, nltk, transformers, linters).
# torch first, by exact version: the CPU release; left to the extra's range, pip picks a multi-GB GPU build.
$(DEV_OK): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(RUN_OK)

setup: $(DEV_OK)

demo: $(RUN_OK)
	$(BIN)/consentry demo

serve-demo: $(RUN_OK)
	$(BIN)/consentry serve --demo

# PostgreSQL and Chromium from Debian's packages; exports CONSENTRY_TEST_PG_URL.
services:
	bash scripts/test-services.sh

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The OpenID Connect provider (npm's oidc-provider, run with Node) the staff sign-in tests start.
oidc-provider:
	bash scripts/oidc-provider.sh

unit: setup oidc-provider
	$(BIN)/pytest -n 2 -m "not browser and not spark" -q

e2e: setup
	@. scripts/axe-setup.sh && $(BIN)/pytest -m "browser or spark" -q

# Lint and types first: a formatting slip fails in seconds, not after the suite.
test: setup lint oidc-provider
	@. scripts/test-services.sh && \
	$(BIN)/pytest -n 2 -m "not browser and not spark" -q -p no:cacheprovider && \
	$(BIN)/pytest -m "browser or spark" -q -p no:cacheprovider

# Refresh docs/screenshots/ from the browser tests (Debian's Chromium, axe-core from npm).
screenshots: setup
	@. scripts/axe-setup.sh && $(BIN)/python scripts/screenshots.py

bench: setup
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/ledger.py --quick
	$(BIN)/python bench/build.py --quick
	$(BIN)/python bench/scrub.py --quick
	$(BIN)/python bench/memorisation.py --quick

clean:
	rm -rf $(VENV) .consentry .consentry-demo .pytest_cache .mypy_cache .ruff_cache tests/a11y/node_modules
