# Two commands do the whole set-up on a fresh machine: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
STAMP := $(VENV)/.installed

.PHONY: run test lint bench samples screenshots snapshot clean

$(PY):
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Listens on 127.0.0.1 only. A shared server: `make run BIND_ADDRESS=0.0.0.0 PUBLIC_NAME=host.example`
# (PUBLIC_NAME is the name people type; Streamlit then never looks its addresses up online).
BIND_ADDRESS ?= 127.0.0.1
PUBLIC_NAME ?= localhost
run: $(STAMP)
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.address $(BIND_ADDRESS) \
		--browser.serverAddress $(PUBLIC_NAME) --browser.gatherUsageStats false \
		--server.headless true

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -n 2

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_analyze.py
	$(PY) bench/bench_app.py
	$(PY) bench/bench_export.py

# The demo portfolio's exports and their PNG previews (pdftoppm from poppler-utils; LibreOffice for the deck's).
samples: $(STAMP)
	$(PY) docs/samples/make_samples.py

# Screenshots of every page, in Debian's chromium.
screenshots: $(STAMP)
	$(PY) docs/screenshots/take.py

# A behaviour snapshot (analyze JSON and every export of the sample portfolio) for refactoring
# commits: `make snapshot SNAPSHOT=/tmp/before` on the parent, then
# `.venv/bin/python docs/snapshot.py compare /tmp/before` after the change.
SNAPSHOT ?= /tmp/pilotproof-snapshot
snapshot: $(STAMP)
	$(PY) docs/snapshot.py write $(SNAPSHOT)

clean:
	rm -rf $(VENV) data/pilotproof.duckdb
