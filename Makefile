# One command runner, the same locally and in CI.
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install serve test lint fix bench

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

## Run repocrew: web app + worker + scheduler in one process, on SQLite (./repocrew.db).
serve: install
	$(BIN)/repocrew serve --host $(HOST) --port $(PORT)

## Lint, then the whole test suite (PostgreSQL tests run when a server is reachable).
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fix: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Intake throughput and latency against a bare endpoint (needs wrk: apt-get install wrk).
bench: install
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/tokens.py
