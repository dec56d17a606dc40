# trainplan — every target creates the virtual environment it needs (.venv, git-ignored).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
# Debian's Chromium: the browser the report's test opens its page in (installed by `make test` when missing).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
PY_DIRS := driver models tests examples $(wildcard bench)

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DBT_VERSION_CHECK := false
export DO_NOT_TRACK := 1

.PHONY: demo test lint format lock clean bench

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode --no-deps -e .
	touch $(STAMP)

## Run the main job on the bundled sample run and print the summary.
demo: $(STAMP)
	$(BIN)/trainplan demo

$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

## End-to-end refresh benchmark (bench/refresh.py): sizes S, C, M, L, Lt, cold and warm, beside their floors;
## writes bench/results.json. `make bench BENCH_ARGS="--sizes S,M --runs 1"` for a quick check.
bench: $(STAMP)
	$(BIN)/python -m bench.refresh $(BENCH_ARGS)

## Lint, then the whole test suite.
test: $(STAMP) $(CHROMIUM) lint
	$(BIN)/pytest -q

## ruff on Python, sqlfluff (duckdb dialect) on the dbt models.
lint: $(STAMP)
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	$(BIN)/sqlfluff lint models macros --dialect duckdb --processes 2 --disable-progress-bar

format: $(STAMP)
	$(BIN)/ruff check --fix $(PY_DIRS)
	$(BIN)/ruff format $(PY_DIRS)

# every dependency group and every optional extra (`--all-extras`) of pyproject.toml goes into requirements.lock
LOCK_GROUPS = $(shell $(BIN)/python -c 'import tomllib; print(*(f"--group {g}" for g in tomllib.load(open("pyproject.toml", "rb"))["dependency-groups"]))')

## Re-pin requirements.lock from pyproject.toml (needs uv in the venv). A pin already in the file stays while it
## still fits (uv prefers the output file's versions), so adding a dependency moves nothing else;
## `make lock UPGRADE="pkg1 pkg2"` lets those packages move to their newest fitting release.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml $(LOCK_GROUPS) --all-extras --universal --no-header --quiet \
		$(foreach p,$(UPGRADE),--upgrade-package $(p)) -o requirements.lock

clean:
	rm -rf $(VENV) target logs .trainplan
