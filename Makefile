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

.PHONY: deps setup synth hcl up down plan test test-unit help diagram cost graphviz bench \
	bench-tests image release promote rollback status provider docs

help:
	@echo "make up      deploy the $(ENV) stacks to the local AWS emulator (installs first)"
	@echo "make down    destroy them and stop the emulator"
	@echo "make test    install and run the whole test suite"
	@echo "make plan    plan the $(ENV) stacks (no apply) into plans/$(ENV)/, with summary.md"
	@echo "make synth   write cdktf.out/stacks/<stack> for every environment"
	@echo "make hcl     write every stack as plain Terraform HCL into hcl/stacks/<stack>/cdk.tf"
	@echo "make release ENV=uat VERSION=<tag or sha256:digest>  ship an image already in ECR"
	@echo "make promote FROM=uat TO=prod  ship to prod the digest that runs healthy in uat"
	@echo "make rollback ENV=uat          back to the previous version of record"
	@echo "make status [ENV=uat]          version, revision, tasks and deployment per env"
	@echo "make bench   synth wall time of every stack (RUNS=5 fresh runs), memory, time split"
	@echo "make bench-tests  the test suite's time per module and tier, CPU share, slowest resources"
	@echo "make diagram docs/architecture-<env>.png/.svg for every environment"
	@echo "make cost    hourly and 30-day cost estimate per environment"
	@echo "make docs    rewrite docs/configuration.md's reference and docs/commands.md's table"
	@echo "make image   build app/, push it to $(ENV)'s ECR repository, print the digest"
	@echo "make provider  hashicorp/aws unpacked once in terraform/providers/ (unless a mirror is there)"

setup: deps graphviz

# The Python and npm packages alone (what the workflows install: they draw no pictures).
deps: $(VENV)/.synced node_modules/.synced

$(VENV)/.synced: Pipfile.lock
	@command -v pipenv >/dev/null || $(PYTHON) -m pip install --quiet "pipenv==$(PIPENV_VERSION)"
	pipenv sync --dev
	@touch $@

node_modules/.synced: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# hashicorp/aws unpacked once into terraform/providers/ (from the registry, as the stacks require
# it), which every `terraform init` then links instead of copying ~675 MB (ops/terraform.py); does
# nothing where a mirror already is ($TF_PROVIDER_MIRROR, terraform/providers/, /opt/tf-plugins).
provider: deps
	$(RUN) -m ops provider

synth: setup
	$(RUN) -m ops synth

# Every stack as plain Terraform HCL (docs/cdktf-sunset.md): hcl/stacks/<stack>/cdk.tf.
hcl: setup
	$(RUN) -m ops hcl

# Starts the emulator if it is not running, then applies state-, network- and app-$(ENV).
up: setup
	$(RUN) -m ops up --env $(ENV)

# Destroys app- and network-$(ENV), then stops the emulator (and the state bucket with it)
# unless another environment still has stacks in it.
down: setup
	$(RUN) -m ops down --env $(ENV)

# Plans every $(ENV) stack without applying (plans/$(ENV)/: plan files, their JSON, summary.md),
# against the emulator `make up` started, or AWS with DEPLOY_TARGET=aws; fails only on an error.
plan: setup
	$(RUN) -m ops plan --env $(ENV)

# pytest-xdist workers, each with its own emulator and synth: the end-to-end modules run side by
# side, mostly waiting on the AWS provider, while the unit tests fill the CPUs
# (docs/tests-and-emulator.md).
TEST_WORKERS ?= 6
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadgroup

test: setup
	$(RUN) -m pytest $(PYTEST_PARALLEL)

test-unit: setup
	$(RUN) -m pytest -m "not e2e" -n auto

# Synth wall time of every stack over RUNS fresh processes, with peak memory and a time split
# (bench/README.md "Synth speed"). CDKTF_FAST_IMPORT=0 make bench measures the eager provider
# import.
bench: setup
	$(RUN) bench/synth.py --runs $(or $(RUNS),5)

# `make test` timed: wall time per module and tier, CPU busy share, each apply's slowest resources
# named as fixed provider waits or not (bench/README.md). TESTS="tests/test_x.py" for a subset.
bench-tests: setup
	$(RUN) bench/tests.py -- $(PYTEST_PARALLEL) $(TESTS)

# Graphviz's `dot` draws the architecture pictures; installed only when missing (Debian/Ubuntu).
graphviz:
	@command -v dot >/dev/null || { echo "installing graphviz (dot)"; \
	  $$([ "$$(id -u)" = 0 ] || echo sudo) apt-get update -qq && \
	  $$([ "$$(id -u)" = 0 ] || echo sudo) apt-get install -y -qq graphviz; }

# docs/architecture-<env>.png and .svg, drawn from the synthesized stacks (cdktf.out); the same
# stacks give byte-identical files.
diagram: setup graphviz
	$(RUN) -m ops diagram

# Build app/, tag it with the git commit, push it to $(ENV)'s ECR repository, print the digest.
image: setup
	$(RUN) -m ops image --env $(ENV)

# Hourly and 30-day on-demand estimate of the synthesized stacks per environment, prices (each
# with its source) from ops/prices/<region>.toml.
cost: setup
	$(RUN) -m ops cost

# The generated parts of docs/: configuration.md's reference (from the config dataclasses' field
# comments) and commands.md's command table (from ops/commands/).
docs: $(VENV)/.synced
	$(RUN) -m ops docs

# Ship a version (docs/releases.md; python -m ops --help). Against the emulator
# `make up` started, or AWS with DEPLOY_TARGET=aws. Exit 0 done, 1 rolled back, 2 refused.
release: deps
	$(RUN) -m ops release --env $(ENV) --version $(VERSION)

promote: deps
	$(RUN) -m ops promote --from $(or $(FROM),uat) --to $(or $(TO),prod)

rollback: deps
	$(RUN) -m ops rollback --env $(ENV)

# Every environment, unless ENV is given on the command line.
status: deps
	$(RUN) -m ops status $(if $(filter command line environment,$(origin ENV)),--env $(ENV))
