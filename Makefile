# fcr-planner: `make run` serves the API with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint fuzz bench install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "fcr-planner needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "could not create $(VENV): on Debian run 'apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/fcr-planner migrate
	$(BIN)/fcr-planner load-demo
	$(BIN)/fcr-planner create-key --if-none --role admin --name admin
	$(BIN)/fcr-planner serve

test: $(STAMP)
	$(BIN)/python -m pytest -ra

lint: $(STAMP)
	$(BIN)/ruff check .

fuzz: $(STAMP)
	bash .ci/fuzz.sh

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) fcr.db fcr.db-wal fcr.db-shm .pytest_cache
