# Anzen — common tasks. Everything runs from a fresh clone; .venv is created in the checkout.
#
#   make run     create .venv, migrate, load the library and the demo data, serve on 127.0.0.1:8000
#   make test    install what the tests need, ruff, the whole suite on SQLite and on PostgreSQL
#   make lint    ruff only            make venv / make venv-dev   just the environment
#   make lock    re-resolve requirements/*.txt from pyproject.toml (make lock-upgrade: newest versions)
#   make clean   remove .venv, var/ (the local data of `make run`) and caches
#
# Variables: ANZEN_HOME (data folder of `make run`, default ./var), HOST, PORT, WORKERS,
# DATABASE_URL (PostgreSQL instead of SQLite), PYTHON (interpreter for .venv).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
ANZEN_HOME ?= $(CURDIR)/var
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
UV_VERSION ?= 0.13.9
export UV_VERSION

.PHONY: help run setup venv venv-dev test lint lock lock-upgrade clean

help:
	@sed -n '2,11p' Makefile | sed 's/^# \{0,1\}//'

venv:
	@scripts/venv.sh base

venv-dev:
	@scripts/venv.sh dev

# Idempotent: a second run changes nothing (migrations, library and demo data are found, not re-created).
setup: venv
	@ANZEN_HOME="$(ANZEN_HOME)" $(BIN)/anzen setup --demo

run: setup
	@ANZEN_HOME="$(ANZEN_HOME)" exec $(BIN)/anzen serve --host "$(HOST)" --port "$(PORT)" --workers "$(WORKERS)"

test:
	@scripts/test.sh

lint: venv-dev
	$(BIN)/ruff check .

LOCK_FLAGS := --quiet --python-version 3.11 --generate-hashes
lock lock-upgrade: venv-dev
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) $(if $(filter lock-upgrade,$@),--upgrade) \
		-o requirements/base.txt
	$(BIN)/uv pip compile pyproject.toml --extra dev -c requirements/base.txt $(LOCK_FLAGS) \
		$(if $(filter lock-upgrade,$@),--upgrade) -o requirements/dev.txt

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .ruff_cache .mypy_cache .hypothesis build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
