# Two commands do all the set-up: `make run` starts the platform, `make test` runs the whole test suite.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

LAB := jupyterlab-hackathon
LAB_PY := $(LAB)/.venv/bin/python
LAB_STAMP := $(LAB)/.venv/.installed
LAB_NODE := $(LAB)/node_modules/.package-lock.json

.PHONY: help run test test-fast lint format lock images bench clean lab lab-test

help:
	@echo "make run     start the site on http://127.0.0.1:8000 with a worker and demo data"
	@echo "make test    run the whole test suite (lint, SQLite run, production-profile run)"
	@echo "make lint    ruff check and format check, the floors contract (import-linter) and mypy"
	@echo "make lab     build the JupyterLab package (jupyterlab-hackathon/) into its own virtualenv"
	@echo "make lab-test  build it and run its tests (server extension, magic, browser journey in JupyterLab)"
	@echo "make lock    re-resolve requirements.lock from pyproject.toml"
	@echo "make images  build the Docker sandbox runtime image offline (needs root and docker.io)"
	@echo "make bench   run the sandbox and grading benchmarks (see bench/README.md for the rest)"

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $$(deploy/find-python.sh) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(VENV)/bin/uv pip sync --quiet --compile-bytecode --python $(PY) requirements.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	deploy/run-dev.sh

# The JupyterLab package has a virtualenv of its own (jupyterlab-hackathon/.venv): a participant's image holds Jupyter
# and the package, none of the platform's dependencies. Its tests start the platform with the project's .venv.
$(LAB_STAMP): $(LAB)/pyproject.toml
	@test -x $(LAB_PY) || $$(deploy/find-python.sh) -m venv $(LAB)/.venv
	$(LAB_PY) -m pip install --quiet --disable-pip-version-check "./$(LAB)[test]"
	@touch $(LAB_STAMP)

$(LAB_NODE): $(LAB)/package-lock.json $(LAB)/package.json
	cd $(LAB) && npm ci --no-audit --no-fund --loglevel=error

lab: $(LAB_STAMP) $(LAB_NODE)
	cd $(LAB) && PATH="$$PWD/.venv/bin:$$PATH" npm run build
	$(LAB_PY) -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall "./$(LAB)"

lab-test: $(STAMP) lab
	cd $(LAB) && .venv/bin/python -m pytest

test: $(STAMP) lint lab-test
	$(PY) -m pytest
	tests/run-production-profile.sh

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow" -x -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 -o requirements.lock

images:
	deploy/sandbox/build-images.sh

bench: $(STAMP)
	$(PY) bench/sandbox_overhead.py
	$(PY) bench/grading_latency.py
	@echo "The other benchmarks (board load, drain, deadline rush, scaling) need PostgreSQL and Redis: see bench/README.md."

clean:
	rm -rf $(VENV) var/media var/private var/broker $(LAB)/.venv $(LAB)/node_modules $(LAB)/lib $(LAB)/hackathon_jupyter/labextension
