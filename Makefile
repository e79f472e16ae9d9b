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

# Jupyter refuses to start as root unless told; containers (Docker, some cloud shells) run as root.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP)  ## open JupyterLab on the chapters (LAB_ARGS="--no-browser --port 8889" ...)
	$(VENV)/bin/jupyter lab notebooks/ $(LAB_ARGS)

# Chapters are compared twice: with the default BLAS thread count and with one thread, a proxy
# for "the stored outputs hold on another CPU" (summation order changes with the threads).
ONE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

test: $(STAMP) seed-data  ## unit tests, then every chapter under nbval (default threads, then one)
	$(PY) -m pytest tests -q
	$(PY) -m pytest $(NBVAL) $(CHAPTERS) -v
	$(ONE_THREAD) $(PY) -m pytest $(NBVAL) $(CHAPTERS) -q

unit: $(STAMP)  ## the unit tests only
	$(PY) -m pytest tests -q

chapters: $(STAMP) seed-data  ## every chapter under nbval, default thread count
	$(PY) -m pytest $(NBVAL) $(CHAPTERS) -v

chapters-1thread: $(STAMP) seed-data  ## every chapter under nbval, one BLAS thread
	$(ONE_THREAD) $(PY) -m pytest $(NBVAL) $(CHAPTERS) -v

notebooks: $(STAMP) seed-data  ## re-execute every chapter in place to refresh the stored outputs
	$(PY) tools/run_notebooks.py $(CHAPTERS)

student: $(STAMP)  ## write the student edition to build/student/ (never overwrites; FORCE=1 does)
	$(PY) tools/student.py --out build/student $(if $(filter 1 yes true,$(FORCE)),--force)

grade: $(STAMP)  ## grade a student's notebook: make grade NB=build/student/01_autograd.ipynb
	@test -n "$(NB)" || { echo "usage: make grade NB=path/to/notebook.ipynb [TIMEOUT=60]"; exit 2; }
	$(PY) tools/grade.py "$(NB)" --timeout $(or $(TIMEOUT),60)

# PyTorch is needed by `make bench` only. Installed first and by exact version (a CPU-only
# build here), so that the loose `torch>=2.0` of the bench extra is already satisfied and pip
# never resolves it to a CUDA build. Elsewhere: TORCH_PIP_ARGS="--index-url <CPU wheel index>".
TORCH ?= torch==2.13.0
TORCH_PIP_ARGS ?=
BENCH_STAMP := $(VENV)/.bench-stamp

$(BENCH_STAMP): $(STAMP) pyproject.toml
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev,bench]"
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) seed-data  ## speed/accuracy/memory vs NumPy, PyTorch, sklearn (BENCH_ARGS=...)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH)"
	$(PY) benchmarks/run.py $(BENCH_ARGS)

lint: $(STAMP)  ## ruff on the library, tests, tools and benchmarks
	$(VENV)/bin/ruff check from_scratch tests tools benchmarks

clean:  ## remove the virtual environment, build outputs and caches
	rm -rf $(VENV) build .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
