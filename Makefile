# crm_analytics: two commands for users.
#   make demo   build the demo warehouse (venv, deps, demo data, dbt build,
#               publish the marts to the serving file if every test passed)
#   make test   run every test (lint, dbt build + dbt tests, pytest, the
#               dashboard in headless Chromium)
#   make dashboard   start the dashboard on http://localhost:8501

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_CUSTOMERS ?= 5000
DEMO_SEED ?= 42
DEMO_DIR ?= data/demo
export DBT_PROFILES_DIR := $(CURDIR)/profiles
export CRM_RAW_DIR ?= $(DEMO_DIR)/raw
# dbt builds into the build file; BI reads the serving file.
export CRM_DUCKDB_PATH ?= warehouse/build.duckdb
export CRM_SERVING_PATH ?= warehouse/crm.duckdb
# Secret key of the email hashes in the serving file: CRM_PII_HASH_KEY when
# set, else one made once per machine in this file (keep it to keep hashes
# stable; it is never committed).
PII_KEY_FILE ?= warehouse/.pii_hash_key

.PHONY: demo test test-fast lint pytest install data build dashboard browser bench bench-daily bench-stress bench-real clean

demo: install data build

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

# Demo data: regenerated when the generator or its settings change.
data: $(DEMO_DIR)/.generated-$(DEMO_CUSTOMERS)-$(DEMO_SEED)

$(DEMO_DIR)/.generated-$(DEMO_CUSTOMERS)-$(DEMO_SEED): $(VENV)/.installed $(wildcard src/crm_analytics/generate/*.py)
	rm -rf $(DEMO_DIR)
	$(BIN)/python -m crm_analytics.generate --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED) --out $(DEMO_DIR)
	@touch $@

# dbt build into the build file; publish to the serving file only if the
# whole build (models and tests) passed.
build: install
	@mkdir -p $(dir $(CRM_DUCKDB_PATH)) $(dir $(CRM_SERVING_PATH)) $(dir $(PII_KEY_FILE))
	@test -n "$$CRM_PII_HASH_KEY" || test -s $(PII_KEY_FILE) || { umask 077; \
	  $(BIN)/python -c 'import secrets; print(secrets.token_hex(32))' > $(PII_KEY_FILE); }
	CRM_PII_HASH_KEY="$${CRM_PII_HASH_KEY:-$$(cat $(PII_KEY_FILE))}" \
	  $(BIN)/python -m crm_analytics.publish $(BUILD_ARGS)

# The dashboard reads only the serving file, read-only.
dashboard: install
	$(BIN)/streamlit run src/crm_analytics/dashboard/app.py

# Headless Chromium and its driver for the dashboard's browser test (Debian
# packages; installed once, with sudo when not root).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || { \
	    $(SUDO) apt-get update -qq && \
	    $(SUDO) apt-get install -y -qq chromium chromium-driver; }; }

lint: install
	$(BIN)/ruff check src tests models bench
	$(BIN)/ruff format --check src tests models bench
	CRM_TARGET=lint $(BIN)/sqlfluff lint models macros tests

pytest: install browser
	$(BIN)/pytest

# The edit-run loop: the unit tests, no dbt build (under a minute). A test
# that runs dbt without the e2e mark fails here and says so. BLAS gets one
# thread and OpenMP threads sleep while they wait: the unit tests' frames
# are small, and on shared cores threads that wait by spinning made the
# tier two to three times slower. (OpenMP keeps its threads, so
# test_ml_helpers can still see one_thread limit them.)
test-fast: install
	CRM_TEST_TIER=fast OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE \
	  $(BIN)/pytest -m "not e2e" -q

test: lint pytest

# Benchmark at 10k, 100k and 1M customers against pandas, a hand-written
# floor, lifetimes and mlxtend (their own venv in bench/.venv-ref); writes
# docs/benchmarks.md and bench/results.json. About an hour on 2 cores.
BENCH_SIZES ?= 10000,100000,1000000
# Examples of the raw-contract fuzzer in make bench (make test runs 3).
FUZZ_EXAMPLES ?= 50
BENCH_DAILY_CUSTOMERS ?= 1000000
BENCH_STRESS_LINES ?= 100000000
bench: install
	$(BIN)/python bench/run.py --sizes $(BENCH_SIZES) --out docs/benchmarks.md
	CRM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q tests/python/test_fuzz.py

# A one-day incremental run (base build, then one daily batch) and the
# 100M-order-line stress run; each files its figures in docs/benchmarks.md.
bench-daily: install
	$(BIN)/python bench/daily.py --customers $(BENCH_DAILY_CUSTOMERS)

bench-stress: install
	$(BIN)/python bench/stress.py --order-lines $(BENCH_STRESS_LINES)

# The full UCI Online Retail data set (not in the repository, see
# docs/real_data.md): convert, build, and check net revenue against the
# source and RFM and BG/NBD against lifetimes. About 3 minutes.
ONLINE_RETAIL ?= OnlineRetail.csv
bench-real: install
	$(BIN)/python bench/real_online_retail.py --source $(ONLINE_RETAIL)

clean:
	rm -rf target logs warehouse $(DEMO_DIR)
