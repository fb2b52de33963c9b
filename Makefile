# One command per task. Each target creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NGSILD_VENV := .venv-ngsild
WEB := cityos/web
WEB_STAMP := $(WEB)/node_modules/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test test-fast lint bench serve clean

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

# The dashboard's libraries (ECharts; Swagger UI for /docs, ReDoc for /redoc; the Noto Sans SC typeface) from npm,
# served as they come: no build step.
$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json
	npm ci --prefix $(WEB) --no-audit --no-fund
	touch $@

# The dashboard tests drive Debian's Chromium through Playwright; no browser is downloaded.
$(CHROMIUM):
	@echo "The dashboard tests need Chromium at $(CHROMIUM): installing Debian's package"
	apt-get install -y -q chromium || { echo "install it with 'sudo apt-get install chromium'" >&2; exit 1; }

demo: $(STAMP) $(WEB_STAMP)
	$(BIN)/cityos demo

# Everything: the lint checks, then SQLite, PostgreSQL, Mosquitto, NATS, real servers and Chromium.
# What CI runs (.ci/run), on two pytest-xdist workers. tests/conftest.py groups the tests that share a service or
# a module's server (PostgreSQL databases and NATS streams are per worker or per test), and tests/group_scheduler.py
# keeps each group on one worker under `--dist loadgroup` (xdist's own grouping, through the node id, does not
# hold with pytest 9.2 and xdist 3.8; tests/test_group_scheduler.py checks ours). Two workers took 1,198-1,246 s for 7,243
# tests at load 2-4 (CI, 2026-12-07), over the 10-minute budget; where the time goes: README.md, Development.
test: lint $(NGSILD_VENV)/.installed $(WEB_STAMP) $(CHROMIUM)
	$(BIN)/pytest -n 2 --dist loadgroup

# The inner loop: only the tests that need nothing beyond SQLite (the markers are in pyproject.toml).
test-fast: $(STAMP) $(WEB_STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -n auto -m "not (postgres or mqtt or nats or browser or interop)"

# Style, the import contracts (layers, package faces: .importlinter) and types (mypy, pydantic plugin).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check cityos tests bench tools
	$(BIN)/lint-imports
	$(BIN)/mypy

# Long runs (about 30 minutes in all); figures, never assertions. Each script has --help.
bench: $(STAMP) $(WEB_STAMP) $(CHROMIUM)
	$(BIN)/python bench/context.py
	$(BIN)/python bench/history.py
	$(BIN)/python bench/notify.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/vitals.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/governance.py
	$(BIN)/python bench/feeds.py
	$(BIN)/python bench/deidentify.py

serve: $(STAMP) $(WEB_STAMP)
	$(BIN)/cityos serve

clean:
	rm -rf $(VENV) $(NGSILD_VENV) $(WEB)/node_modules var .pytest_cache
