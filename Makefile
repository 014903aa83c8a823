# Two commands do all set-up on a fresh machine: `make report` and `make test`.
# Both build .venv (with uv from PyPI when it can be had, else plain pip) on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PERIOD ?=

.PHONY: report test nbval notebooks sample bench env lab clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv || true

$(STAMP): pyproject.toml | $(PY)
	@if [ -x $(VENV)/bin/uv ]; then \
	  $(VENV)/bin/uv pip install --quiet --python $(PY) -e ".[test,bench,dask]"; \
	else \
	  $(PY) -m pip install --quiet --disable-pip-version-check -e ".[test,bench,dask]"; \
	fi
	@touch $(STAMP)

env: $(STAMP)

report: $(STAMP)
	$(PY) -m fpanalysis report --data-dir data/sample $(if $(PERIOD),--period $(PERIOD)) $(if $(PERIODS),--periods $(PERIODS) --jobs 2)

test: $(STAMP)
	$(PY) -m pytest

# The notebooks alone under nbval (make test runs them too): CI runs this right after make
# test, so that every notebook passes nbval twice in a row on a fresh machine.
nbval: $(STAMP)
	$(PY) -m pytest notebooks

# Re-execute the committed notebooks in place with their defaults (no injected-parameters
# cell), so that their outputs are the nbval baseline.
notebooks: $(STAMP)
	cd notebooks && for nb in *.ipynb; do \
	  ../$(PY) -m jupyter nbconvert --to notebook --execute --inplace "$$nb" || exit 1; done

# JupyterLab on notebooks/ (explore.ipynb for interactive use). The kernel is the project's:
# the venv's jupyter prefers the venv's kernelspecs over a user's (JUPYTER_PREFER_ENV_PATH=1),
# and its python3 spec (installed with ipykernel) runs the python that started jupyter.
# Extra options: make lab LAB_ARGS="--no-browser --port 8890"
lab: $(STAMP)
	JUPYTER_PREFER_ENV_PATH=1 $(VENV)/bin/jupyter lab notebooks/ $(LAB_ARGS)

sample: $(STAMP)
	$(PY) -m fpanalysis.synth --out data/sample

bench: $(STAMP)
	$(PY) benchmarks/bench_indicators.py
	$(PY) benchmarks/bench_ranks.py
	$(PY) benchmarks/bench_quality.py
	$(PY) benchmarks/bench_report.py
	$(PY) benchmarks/bench_aggregate.py --rows 10000000

clean:
	rm -rf $(VENV) reports
