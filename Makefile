# Two commands do the whole set-up on a fresh machine: `make run` and `make test`.
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench samples clean

$(PY):
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.headless true

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -n 2

lint: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) bench/bench_ingest.py
	$(PY) bench/bench_analyze.py
	$(PY) bench/bench_app.py

samples: $(STAMP)
	$(PY) data/sample/make_sample.py
	$(PY) -m pilotproof.cli report --db /tmp/pilotproof-samples.duckdb --format pptx --out docs/samples/portfolio.pptx

clean:
	rm -rf $(VENV) data/pilotproof.duckdb
