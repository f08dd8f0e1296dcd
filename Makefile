# Briefboard developer commands. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Create .venv and install the project with its dev tools

.PHONY: run
run: install ## Start PostgreSQL (embedded unless DATABASE_URL), migrate, load demo data, serve :8000
	$(BIN)/briefboard dev --host 127.0.0.1 --port 8000

.PHONY: test
test: install ## Run the whole suite (TEST_DATABASE_URL, else the embedded PostgreSQL)
	$(BIN)/pytest -q $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff check, ruff format --check, mypy
	$(BIN)/ruff check api tests migrations bench
	$(BIN)/ruff format --check api tests migrations bench
	$(BIN)/mypy api

.PHONY: format
format: install ## Format the code
	$(BIN)/ruff format api tests migrations bench
	$(BIN)/ruff check --fix api tests migrations bench

.PHONY: migrate
migrate: install ## Upgrade the database to the latest migration
	$(BIN)/briefboard migrate

# uv.lock pins every dependency (dev tools too); requirements.lock, exported from it with
# hashes, is what the image installs. .ci/run fails when either is out of step.
LOCK_EXPORT := $(BIN)/uv export --frozen --quiet --format requirements.txt --no-emit-project --no-dev

.PHONY: lock
lock: install ## Re-resolve uv.lock after a pyproject.toml change; write requirements.lock
	$(BIN)/uv lock
	$(LOCK_EXPORT) > requirements.lock

.PHONY: lock-check
lock-check: install ## Fail when uv.lock or requirements.lock lags behind pyproject.toml
	$(BIN)/uv lock --check
	@$(LOCK_EXPORT) | diff -u requirements.lock - || { echo "requirements.lock is stale: make lock"; exit 1; }

.PHONY: openapi
openapi: install ## Write openapi/openapi.json from the app
	$(BIN)/briefboard openapi --output openapi/openapi.json

# A scratch database: `make bench` loads it once, BENCH_ARGS=--reset reloads it.
BENCH_DATABASE_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/bench_perf

.PHONY: bench
bench: install ## Load the benchmark data, run the API and the asyncpg baseline side by side (needs wrk)
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install -y wrk" >&2; exit 2; }
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python -m bench.perf $(BENCH_ARGS)

# Its own scratch database (its schema is dropped and reloaded): MATCHING_DATABASE_URL.
N ?= 100000
.PHONY: bench-matching
bench-matching: install ## Time matching at N creators (default 100000) in MATCHING_DATABASE_URL
	@test -n "$(MATCHING_DATABASE_URL)" || { echo "set MATCHING_DATABASE_URL to a scratch database"; exit 2; }
	$(BIN)/python -m bench.matching --database-url "$(MATCHING_DATABASE_URL)" --reset \
		--creators $(N) $(MATCHING_ARGS)

.PHONY: bench-restart
bench-restart: install ## Time `make run` to /readyz: cold first run (no .data yet), then warm restarts
	$(BIN)/python -m bench.restart $(RESTART_ARGS)

.PHONY: clean
clean: ## Remove the virtual environment and caches (keeps .data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
