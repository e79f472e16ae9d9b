# The commands a person types. `make lab` and `make test` are all the set-up there is:
# both create .venv and install the package with its dev extra when needed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SHARED_MNIST := ../shared/data/mnist
# Where datasets are cached; CI and these machines seed it from ../shared/data (no internet).
export FROM_SCRATCH_DATA ?= $(HOME)/.cache/from_scratch
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
CHAPTERS := $(sort $(wildcard notebooks/[0-9]*.ipynb))

.DEFAULT_GOAL := help
.PHONY: help lab test unit chapters chapters-1thread notebooks lint bench student grade clean seed-data

help:  ## list the commands
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

seed-data:  ## copy the MNIST files from ../shared/data into the cache, when that folder exists
	@if [ -d "$(SHARED_MNIST)" ]; then \
		mkdir -p "$(FROM_SCRATCH_DATA)/mnist" && \
		cp -n $(SHARED_MNIST)/*-ubyte.gz "$(FROM_SCRATCH_DATA)/mnist/" 2>/dev/null || true; \
	fi

lab: $(STAMP)  ## open JupyterLab on the chapters
	$(VENV)/bin/jupyter lab notebooks/

test: $(STAMP) seed-data  ## run the unit tests, then re-execute every chapter under nbval
	$(PY) -m pytest tests -q
	$(PY) -m pytest $(NBVAL) $(CHAPTERS) -v

unit: $(STAMP)  ## the unit tests only
	$(PY) -m pytest tests -q

chapters: $(STAMP) seed-data  ## every chapter under nbval, default thread count
	$(PY) -m pytest $(NBVAL) $(CHAPTERS) -v

chapters-1thread: $(STAMP) seed-data  ## every chapter under nbval, one BLAS thread
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest $(NBVAL) $(CHAPTERS) -v

notebooks: $(STAMP) seed-data  ## re-execute every chapter in place to refresh the stored outputs
	$(PY) tools/run_notebooks.py $(CHAPTERS)

lint: $(STAMP)  ## ruff on the library, tests, tools and benchmarks
	$(VENV)/bin/ruff check from_scratch tests tools benchmarks

clean:  ## remove the virtual environment, build outputs and caches
	rm -rf $(VENV) build .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
