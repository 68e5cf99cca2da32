# Set-up and everyday commands. Only Python 3.11+ and make are needed; everything else installs into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

# Parallel pytest workers (pytest-xdist): one per core unless told, e.g. `make test TEST_WORKERS=1`.
TEST_WORKERS ?= auto

.PHONY: install demo demo-real-limits demo-steady test test-fast lint typecheck unit ui dev sandbox bench bench-plan bench-webhooks bench-locations soak clean webhooks

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv (from PyPI, into .venv) installs in seconds what pip takes a minute for; pip does it when uv cannot. Compiled
# at install as pip does: with PYTHONDONTWRITEBYTECODE set, every process would compile what it imports again.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv \
	  && $(BIN)/python -m uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]' \
	  || $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: etl_project/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp etl_project/dagster.yaml $(DAGSTER_HOME)/dagster.yaml

## make demo: start the sandbox, run every flow against it (rate limits scaled down), print a summary, stop it
demo: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m etl_project.devtools.demo $(DEMO_ARGS)

## make demo-real-limits: the same demo waiting on the platforms' real rate limits (about ten minutes)
demo-real-limits:
	$(MAKE) demo DEMO_ARGS=--real-limits

## make demo-steady: 12 simulated hours of schedules, sensors, user activity and faults (writes bench/results/)
demo-steady: install
	$(BIN)/python bench/soak.py --days 0 --hours 12 --out bench/results/demo_steady_state.md

## make test: lint, type-check and run every test (no internet needed; what CI runs)
test: lint typecheck unit

## make test-fast: the tests without Dagster end-to-end runs, quick property profile (after every change)
test-fast: install
	ETL_TEST_PROFILE=quick $(BIN)/pytest -m "not e2e" -n $(TEST_WORKERS) -q

lint: install
	$(BIN)/ruff check etl_project etl_tests $(wildcard bench)
	$(BIN)/ruff format --check etl_project etl_tests $(wildcard bench)

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest -n $(TEST_WORKERS) --durations=25

## make ui: the sandbox plus the Dagster UI (http://127.0.0.1:3000) wired to it
ui: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m etl_project.devtools.devui

## make dev: the Dagster UI against the platforms configured in the environment or .env (real credentials)
dev: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml

## make sandbox: only the platform stand-ins, in the foreground (Ctrl-C stops them)
sandbox: install
	$(BIN)/python -m etl_project.sandbox

## make webhooks: the webhook receiver on 127.0.0.1:$WEBHOOK_PORT (default 8110), in the foreground (docs/webhooks.md)
webhooks: install
	$(BIN)/python -m etl_project.webhooks

## make bench: the extraction benchmark (writes bench/results/extract.md)
bench: install
	$(BIN)/python bench/extract_bench.py

## make bench-plan: the planning benchmark, 100k and 1M people (writes bench/results/plan.md; not part of `bench`)
bench-plan: install
	$(BIN)/python bench/plan_bench.py

## make bench-webhooks: webhook receiver throughput, then event-to-write latency (writes bench/results/webhooks.md, webhook_latency.md)
bench-webhooks: install
	$(BIN)/python bench/webhook_bench.py
	$(BIN)/python bench/webhook_latency.py

## make bench-locations: N locations x C contacts, each location its own run processes: a backfill, then hourly cycles, real limits (writes bench/results/locations.md; BENCH_ARGS picks the sizes)
bench-locations: install
	$(BIN)/python bench/locations_bench.py $(BENCH_ARGS)

## make soak: the acceptance soak, 14 simulated days of schedules, sensors, faults and alerts (writes bench/results/soak.md)
soak: install
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) .dagster_home data .pytest_cache .mypy_cache .ruff_cache
