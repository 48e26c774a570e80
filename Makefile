# The front door. `make demo` and `make test` work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: install browser demo test test-sqlite test-postgres lint format bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/lastweek demo

test: test-sqlite test-postgres

# Debian's chromium for the Playwright tests (never a downloaded browser); without it they are skipped.
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium) \
	  || echo "could not install chromium: browser tests will be skipped"

# The layers of ARCHITECTURE.md (pyproject's import-linter contract), then the suite on SQLite.
test-sqlite: $(STAMP) browser
	$(BIN)/lint-imports
	$(BIN)/pytest

# Runs the suite again on PostgreSQL when one answers; under CI=true a missing PostgreSQL is an error.
test-postgres: $(STAMP) browser
	@if $(BIN)/python -c "import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=3).close()" \
	    "$(TEST_DATABASE_URL)" 2>/dev/null; then \
	  echo "== PostgreSQL pass ($(TEST_DATABASE_URL)) =="; \
	  DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/pytest; \
	elif [ "$$CI" = "true" ]; then \
	  echo "PostgreSQL is not reachable at $(TEST_DATABASE_URL), and CI must test on it." >&2; exit 1; \
	else \
	  echo "SKIPPED the PostgreSQL pass: nothing answers at $(TEST_DATABASE_URL) (set TEST_DATABASE_URL)."; \
	fi

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python bench/roster_import.py
	$(BIN)/python bench/cycle_open.py
	$(BIN)/python bench/submissions.py
	$(BIN)/python bench/compliance.py
	$(BIN)/python bench/parse.py

clean:
	rm -rf $(VENV) var .pytest_cache
