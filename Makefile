# Stratum: `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: all venv controlplane tools crds lint typecheck test unit integration e2e demo bench clean

all: test

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

controlplane:
	hack/controlplane build

# Pinned Go tools the tests run (promtool for the alert rules), cached under ~/.cache/stratum/tools.
tools:
	hack/tools build promtool

crds: venv
	$(BIN)/stratum crds --out crds
	hack/sync-crds

lint: venv
	$(BIN)/ruff check operator tests hack/demo hack/sync-crds hack/tools bench
	$(BIN)/ruff format --check operator tests hack/demo hack/sync-crds hack/tools bench
	$(BIN)/lint-imports

typecheck: venv
	$(BIN)/mypy

unit: venv tools
	$(BIN)/pytest -q tests/unit

test: venv controlplane tools lint typecheck
	$(BIN)/pytest -q tests

demo: venv controlplane
	$(BIN)/python hack/demo $(ARGS)

bench: venv controlplane
	$(BIN)/python bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
