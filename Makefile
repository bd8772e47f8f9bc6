# Stratum: `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=
# Python sources outside the package that ruff checks too (scripts without a .py suffix).
PY_SOURCES := operator tests bench hack/demo hack/sync-crds hack/argocd-cm hack/s3server hack/tools

.PHONY: all venv controlplane s3server tools crds lint typecheck test unit integration e2e demo bench clean

all: test

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

controlplane:
	hack/controlplane build

s3server:
	hack/s3server build

# Pinned Go tools the tests run (promtool for the alert rules), cached under ~/.cache/stratum/tools.
tools:
	hack/tools build promtool

crds: venv
	$(BIN)/stratum crds --out crds
	hack/sync-crds

lint: venv
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy

unit: venv tools
	$(BIN)/pytest -q tests/unit

test: venv controlplane s3server tools lint typecheck
	$(BIN)/pytest -q tests

demo: venv controlplane s3server
	$(BIN)/python hack/demo $(ARGS)

bench: venv controlplane
	$(BIN)/python bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
