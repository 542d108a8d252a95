# Both targets create (or reuse) the virtual environment, so a fresh clone needs nothing else.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/sipas-bot serve --demo

# Two workers: the suite is CPU-bound (real processes, real servers) and the machines have two cores.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2

# The database tests on PostgreSQL (tests/conftest.py leaves out transports and browsers): a throwaway cluster (Debian's package; installed when missing) on a unix socket.
PG_DIR ?= /tmp/sipas-pg
PG_PORT ?= 54329
test-postgres: $(STAMP)
	SIPAS_TEST_POSTGRES_URL="$$(.ci/start-postgres $(PG_DIR) $(PG_PORT))" $(BIN)/python -m pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/report.py
	$(BIN)/python bench/telegram.py
	$(BIN)/python bench/web.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
