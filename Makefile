# Two commands do all the set-up: `make run` starts the platform, `make test` runs the whole test suite.
.DEFAULT_GOAL := help
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help run test test-fast lint format lock images bench clean

help:
	@echo "make run     start the site on http://127.0.0.1:8000 with a worker and demo data"
	@echo "make test    run the whole test suite (lint, SQLite run, production-profile run)"
	@echo "make lint    ruff check and format check"
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

test: $(STAMP) lint
	$(PY) -m pytest
	tests/run-production-profile.sh

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow" -x -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

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
	rm -rf $(VENV) var/media var/private var/broker
