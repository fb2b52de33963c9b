# One command per task. Each target creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NGSILD_VENV := .venv-ngsild

.PHONY: demo test lint bench serve clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# ngsildclient pins old httpx/rich, so the interoperability test runs it from its own venv.
$(NGSILD_VENV)/.installed:
	test -x $(NGSILD_VENV)/bin/python || $(PYTHON) -m venv $(NGSILD_VENV)
	$(NGSILD_VENV)/bin/python -m pip install -q 'ngsildclient==0.5.2'
	touch $@

demo: $(STAMP)
	$(BIN)/cityos demo

test: $(STAMP) $(NGSILD_VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check cityos tests bench

# Long runs (about 30 minutes in all); figures, never assertions. Each script has --help.
bench: $(STAMP)
	$(BIN)/python bench/context.py
	$(BIN)/python bench/history.py
	$(BIN)/python bench/notify.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/vitals.py

serve: $(STAMP)
	$(BIN)/cityos serve

clean:
	rm -rf $(VENV) $(NGSILD_VENV) var .pytest_cache
