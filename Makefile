# The two commands a new user runs: `make up` (deploy to the local AWS emulator) and `make test`.
# Each installs what it needs first, from the lock files (Pipfile.lock, package-lock.json).

SHELL := /bin/bash
PYTHON ?= python3
PIPENV_VERSION := 2026.10.3
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_VERBOSITY := -1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

VENV := .venv
RUN := $(VENV)/bin/python
ENV ?= uat

.PHONY: setup synth up down test test-unit help

help:
	@echo "make up      deploy the $(ENV) stacks to the local AWS emulator (installs first)"
	@echo "make down    destroy them and stop the emulator"
	@echo "make test    install and run the whole test suite"
	@echo "make synth   write cdktf.out/stacks/<stack> for every environment"

setup: $(VENV)/.synced node_modules/.synced

$(VENV)/.synced: Pipfile.lock
	@command -v pipenv >/dev/null || $(PYTHON) -m pip install --quiet "pipenv==$(PIPENV_VERSION)"
	pipenv sync --dev
	@touch $@

node_modules/.synced: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

synth: setup
	$(RUN) main.py

# Starts the emulator if it is not running, then applies state-, network- and app-$(ENV).
up: setup
	$(RUN) -m ops.deploy up --env $(ENV)

# Destroys app- and network-$(ENV), then stops the emulator (and the state bucket with it).
down: setup
	$(RUN) -m ops.deploy down --env $(ENV)

test: setup
	$(RUN) -m pytest

test-unit: setup
	$(RUN) -m pytest -m "not e2e"
