# Everything runs from the project's own virtualenv; `make install` is idempotent.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The test suite gets its own embedded warehouse so it never touches the demo's data.
TEST_HOME := $(CURDIR)/.warehouse-test

.PHONY: install browser demo test lint dbt-test pytest bench soak docs clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The portal's browser tests drive Debian's chromium (Playwright never downloads a browser).
browser:
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
		else echo "chromium is missing: run 'sudo apt-get install -y chromium'" >&2; exit 1; fi; }

demo: install
	$(BIN)/warehouse demo $(if $(VERBOSE),--verbose)

test: install lint dbt-test pytest

lint: install
	$(BIN)/ruff check loader tests bench bi
	$(BIN)/ruff format --check loader tests bench bi

# A fresh database: the docs (and so every model) compile before anything is built; dbt build
# (models, data and unit tests) on the sample data, then sqlfluff, whose dbt templater compiles
# against the live warehouse (the timescale-only models compile for their target without TimescaleDB).
dbt-test: install
	WAREHOUSE_HOME=$(TEST_HOME) $(BIN)/warehouse down --purge
	WAREHOUSE_HOME=$(TEST_HOME) $(BIN)/warehouse up
	WAREHOUSE_HOME=$(TEST_HOME) $(BIN)/warehouse exec -- dbt docs generate --quiet
	WAREHOUSE_HOME=$(TEST_HOME) $(BIN)/warehouse load invoices data/invoices/invoices.csv
	WAREHOUSE_HOME=$(TEST_HOME) $(BIN)/warehouse load chatbot data/chatbot/hour=13.json data/chatbot/hour=14.json
	WAREHOUSE_HOME=$(TEST_HOME) $(BIN)/warehouse build
	WAREHOUSE_HOME=$(TEST_HOME) $(BIN)/warehouse exec -- sqlfluff lint models tests/dbt
	WAREHOUSE_HOME=$(TEST_HOME) $(BIN)/warehouse exec -- sqlfluff lint --config .sqlfluff-timescale \
		models/marts/notifications/timescale
	WAREHOUSE_HOME=$(TEST_HOME) $(BIN)/warehouse down --purge

# The live TimescaleDB tests (tests/deployment/test_timescale_live.py) run only with a server to run on;
# the skip reasons are also in pytest's summary (-ra). The checkout's own temporary folder: pytest
# prunes the shared /tmp/pytest-of-<user> of other sessions' folders, servers' data included.
pytest: install browser
	@if [ -n "$$WAREHOUSE_TEST_TIMESCALE_DSN" ]; then \
		echo "TimescaleDB tests: run against WAREHOUSE_TEST_TIMESCALE_DSN"; \
	else \
		echo "TimescaleDB tests: skipped, WAREHOUSE_TEST_TIMESCALE_DSN is not set (a TimescaleDB superuser URL)"; \
	fi
	$(BIN)/pytest --basetemp=$(CURDIR)/.pytest-tmp

# -m: the scripts import bench.common from the project root
bench: install
	$(BIN)/python -m bench.invoices
	$(BIN)/python -m bench.chatbot
	$(BIN)/python -m bench.kafka
	$(BIN)/python -m bench.notifications
	$(BIN)/python -m bench.service
	$(BIN)/python -m bench.storage
	$(BIN)/python -m bench.portal

# An hour of `warehouse run` at the seed's peak rate, one line a minute (bench/soak.py).
MINUTES ?= 60
RATE ?= 3500
soak: install
	$(BIN)/python -m bench.soak --minutes $(MINUTES) --rate $(RATE)

# dbt docs of the demo's warehouse (`make demo` first for a catalog with data) on http://127.0.0.1:8081
docs: install
	$(BIN)/warehouse up
	$(BIN)/warehouse exec -- dbt docs generate --quiet
	$(BIN)/warehouse exec -- dbt docs serve --host 127.0.0.1 --port 8081 --no-browser

clean:
	WAREHOUSE_HOME=$(TEST_HOME) $(BIN)/warehouse down --purge || true
	rm -rf target logs .pytest_cache test-artifacts
