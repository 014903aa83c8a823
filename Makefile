# Two commands do all set-up on a fresh machine: `make report` and `make test`.
# Both build .venv (with uv from PyPI when it can be had, else plain pip) on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PERIOD ?=

.PHONY: report test notebooks sample bench env clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv || true

$(STAMP): pyproject.toml | $(PY)
	@if [ -x $(VENV)/bin/uv ]; then \
	  $(VENV)/bin/uv pip install --quiet --python $(PY) -e ".[test,bench]"; \
	else \
	  $(PY) -m pip install --quiet --disable-pip-version-check -e ".[test,bench]"; \
	fi
	@touch $(STAMP)

env: $(STAMP)

report: $(STAMP)
	$(PY) -m fpanalysis.cli report --data-dir data/sample $(if $(PERIOD),--period $(PERIOD))

test: $(STAMP)
	$(PY) -m pytest

# Re-execute the committed notebooks in place with their defaults (no injected-parameters
# cell), so that their outputs are the nbval baseline.
notebooks: $(STAMP)
	cd notebooks && for nb in *.ipynb; do \
	  ../$(PY) -m jupyter nbconvert --to notebook --execute --inplace "$$nb" || exit 1; done

sample: $(STAMP)
	$(PY) -m fpanalysis.synth --out data/sample

bench: $(STAMP)
	$(PY) benchmarks/bench_indicators.py
	$(PY) benchmarks/bench_ranks.py

clean:
	rm -rf $(VENV) reports
