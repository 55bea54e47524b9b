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

# Two test processes (pytest-xdist), one per core; each file's tests run in
# one process, in order (a session build is made once per process that
# needs it). Not --dist loadgroup: xdist 3.8 marks its groups in a node id
# attribute that pytest 9.2 no longer reads, so groups are ignored.
pytest: install browser
	$(BIN)/pytest -n 2 --dist loadfile

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

# The benchmark page, docs/benchmarks.md (figures in bench/results.json),
# from one run at one commit (bench/run.py): the demo build (5k customers,
# `python -m crm_analytics.publish` timed), the BG/NBD fit alone against
# lifetimes (bench/bgnbd_fit.py, 100k and 1M simulated customers), a
# transactions-only build (100k) against its floor, and full builds at 10k,
# 100k and 1M against pandas, a hand-written floor, lifetimes and mlxtend
# (their own venv in bench/.venv-ref); then the raw-contract fuzzer. About
# 1.5 to 2 hours on 2 cores: the 1M size 45-50 min (its build about 26 min
# at a06e9d2, its comparisons 15-20 min, its data 3 min when not already
# generated), the fuzzer's 50 builds about 30 min, the rest about 15 min.
# Then run bench-daily and bench-stress at the same commit: each adds its
# section to the page; a later make bench keeps them only if they measured
# the same project files, and the page flags any that did not. The targets
# are stated for the default profile: leave CRM_DUCKDB_MEMORY_LIMIT unset.
# To try the harness quickly without touching the page:
#   make bench BENCH_SIZES=2000 BENCH_TX_SIZES=2000 BENCH_DEMO_CUSTOMERS=2000 \
#     BENCH_BGNBD_SIZES=2000 BENCH_ARGS="--target-size 2000" FUZZ_EXAMPLES=3 \
#     BENCH_OUT=/tmp/bench.md BENCH_JSON=/tmp/bench.json
BENCH_SIZES ?= 10000,100000,1000000
BENCH_TX_SIZES ?= 100000
BENCH_DEMO_CUSTOMERS ?= 5000
BENCH_BGNBD_SIZES ?= 100000,1000000
BENCH_ARGS ?=
BENCH_OUT ?= docs/benchmarks.md
BENCH_JSON ?= bench/results.json
# Examples of the raw-contract fuzzer in make bench (make test runs 3).
FUZZ_EXAMPLES ?= 50
BENCH_DAILY_CUSTOMERS ?= 1000000
BENCH_STRESS_LINES ?= 100000000
BENCH_STRESS_CUSTOMERS ?= 1000000
bench: install
	$(BIN)/python bench/run.py --sizes $(BENCH_SIZES) \
	  --transactions-sizes "$(BENCH_TX_SIZES)" \
	  --demo-customers $(BENCH_DEMO_CUSTOMERS) \
	  --bgnbd-sizes "$(BENCH_BGNBD_SIZES)" \
	  --out $(BENCH_OUT) --json $(BENCH_JSON) $(BENCH_ARGS)
	CRM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q tests/python/test_fuzz.py

# The one-day incremental run at 1M customers (bench/daily.py, about 75 min:
# its own data with a daily batch, the base build and publish, then the batch
# built by `dbt build` and, from the same base, by the publish; needs about
# 25 GB of disk for the build file and its copy) and the 100M-order-line
# stress run (bench/stress.py, about 40 min: the stress data from make
# bench's 1M data, generated when missing, then one build with the default
# settings). Each files its section in the page of make bench.
bench-daily: install
	$(BIN)/python bench/daily.py --customers $(BENCH_DAILY_CUSTOMERS) \
	  --out $(BENCH_OUT) --results $(BENCH_JSON)

bench-stress: install
	$(BIN)/python bench/stress.py --order-lines $(BENCH_STRESS_LINES) \
	  --customers $(BENCH_STRESS_CUSTOMERS) --out $(BENCH_OUT) \
	  --results $(BENCH_JSON)

# The full UCI Online Retail data set (not in the repository, see
# docs/real_data.md): convert, build, and check net revenue against the
# source and RFM and BG/NBD against lifetimes. About 3 minutes.
ONLINE_RETAIL ?= OnlineRetail.csv
bench-real: install
	$(BIN)/python bench/real_online_retail.py --source $(ONLINE_RETAIL)

clean:
	rm -rf target logs warehouse $(DEMO_DIR)
