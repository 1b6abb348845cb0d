# One command runner, the same locally and in CI.
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install sandbox browser serve test lint fix bench

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

## Run repocrew: web app + worker + scheduler in one process, on SQLite (./repocrew.db);
## without a GitHub App configured, name what is missing and show the offline demo.
serve: install sandbox
	$(BIN)/repocrew start --host $(HOST) --port $(PORT)

## The tester's sandbox is bubblewrap: install it when missing and we may (root with apt).
sandbox:
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get install -y -q bubblewrap >/dev/null 2>&1; } || \
	  echo "bubblewrap is missing (apt install bubblewrap): the sandbox tests will be skipped"

## The dashboard's browser test drives Debian's Chromium: install it when missing and we may.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get install -y -q chromium >/dev/null 2>&1; } || \
	  echo "chromium is missing (apt install chromium): the dashboard's browser test will be skipped"

## Lint (ruff; lint-imports checks the import contracts of pyproject.toml), then the whole test
## suite on four processes for two cores (much of it waits on servers, git and the sandbox:
## on two processes it took 16 min, on three 11 to 12, on four about 8), then the two chaos
## tests side by side (their fleets of processes under SIGKILL slowed the rest and were slowed
## by them), then alone the tests that restart the shared PostgreSQL server; PostgreSQL tests
## run when a server answers.
test: install sandbox browser
	@sh deploy/helm/fetch-helm.sh >/dev/null || echo "helm unavailable: the Helm chart tests will be skipped"
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -n 4 --dist worksteal -m "not exclusive and not fleet"
	$(BIN)/pytest -n 2 -m fleet
	$(BIN)/pytest -m exclusive

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

fix: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Benchmarks: intake throughput (needs wrk: apt-get install wrk), model tokens per run, a
## 5-minute soak of mixed GitHub and Slack traffic (lost and duplicated work must stay at 0), and
## how fast workers drain stored deliveries: one `serve` on SQLite, one and two `worker`
## processes on PostgreSQL (a local server; the bench makes and drops its own database), and
## the store's no-op floor.
bench: install
	$(BIN)/python bench/intake.py
	$(BIN)/python bench/tokens.py
	$(BIN)/python bench/soak.py
	$(BIN)/python bench/worker.py
